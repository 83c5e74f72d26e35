-- A file may call scenario { } without returning it.
scenario {
  name = "declared",
  variants = { { name = "m", kind = "pruned" } },
  backends = { "mock" },
  threads = 2,
  batch = 4,
  cores = "0-1",
}
