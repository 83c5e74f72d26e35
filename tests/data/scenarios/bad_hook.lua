-- expect-hook: 9: on_trial failed for variant a
-- Loads fine; its on_trial hook raises an error for every trial (the run must stop with
-- the hook's file:line).
return scenario {
  name = "bad-hook",
  variants = { { name = "a", kind = "original" } },
  backends = { "mock" },
  on_trial = function(row)
    error("on_trial failed for variant " .. row.variant)
  end,
}
