"""nkbrief's Qt front end. Imports nkbrief; nkbrief never imports this package."""
