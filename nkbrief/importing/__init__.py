"""Reading a colleague's file into the store: read -> map -> convert -> check -> plan -> apply."""
