-- What issue 14 still asks for, left for the next session (each a pending spec until built).
describe("issue 14, not built yet", function ()
  pending("--attention eager|sdpa|flash: eager stores the scores and probabilities (today's figures); " ..
    "flash reads Q, K, V and writes O in tiles, never the scores, and its backward recomputes them " ..
    "(FlopCounterMode: 5 products against eager's 4); Llama-3-70B prefill at batch 16, 8k: the footprint without " ..
    "the 411.7 GiB of stored scores")
  pending("--phase train counts the backward's reads (saved activations, weights, incoming gradients) and writes " ..
    "(input and weight gradients) and Adam's step (master weights, moments, gradients), per module")
  pending("lmp calibrate reads the torch profiler's exported trace (record_shapes: aten::mm/addmm input dims, " ..
    "kernel durations by correlation id) beside the CSV")
  pending("the L2 cache in the time model: Vidur's elementwise kernels of 1-30 MB run faster than the HBM roof " ..
    "(docs/validation.md's worst errors)")
end)
