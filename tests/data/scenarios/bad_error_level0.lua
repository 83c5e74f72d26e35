-- expect: 3: no position given
-- error(msg, 0) carries no file:line; the harness adds the innermost Lua frame's.
local function check() error("no position given", 0) end
check()
return scenario { name = "x", variants = { { name = "a", kind = "original" } }, backends = { "mock" } }
