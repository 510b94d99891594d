// ZooNet: the CPU engine. Filled in by the engine work (issue 5).
