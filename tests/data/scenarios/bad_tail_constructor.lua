-- expect: 0: scenario expects one table, as in scenario { ... } (got string)
-- scenario called by a tail call with a string: Lua keeps no caller frame, so the message can
-- only name the file.
return scenario "tail"
