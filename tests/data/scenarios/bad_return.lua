-- expect: 4: the file returned number; it must end with return scenario {
-- A file that returns something other than a scenario.
local x = 42
return x
