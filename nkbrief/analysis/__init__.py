"""Analysis over the events: filtering, calendar context, timing tests, geodesy for the map."""
