-- A Lua meter that reads a constant 2.5 W: the energy per inference must then be 2.5 W times
-- the time per inference, and the net energy (minus the idle baseline, also 2.5 W) zero.
local source = option("source", "lua", "lua or command")
local energy = { idle = "0.3s" }
if source == "lua" then
  energy.read = function() return 2.5 end
else
  energy.command = "echo 4.0"
end
return scenario {
  name = "energy-" .. source,
  dataset = dataset.random { shape = { 4 }, count = 8 },
  variants = { { name = "v", kind = "original" } },
  backends = { "mock" },
  backend_options = { mock = { latency_ms = 1 } },
  energy = energy,
  -- min_time 0: the loop must still run until the meter has seen 5 updates (10 Hz: 0.5 s).
  measure = { warmup = 0, min_iterations = 10, min_time = 0, max_time = "5s" },
}
