-- What issue 14 still asks for, left for the next session (each a pending spec until built).
describe("issue 14, not built yet", function ()
  pending("lmp calibrate reads the torch profiler's exported trace (record_shapes: aten::mm/addmm input dims, " ..
    "kernel durations by correlation id) beside the CSV")
  pending("the L2 cache in the time model: Vidur's elementwise kernels of 1-30 MB run faster than the HBM roof " ..
    "(docs/validation.md's worst errors)")
end)
