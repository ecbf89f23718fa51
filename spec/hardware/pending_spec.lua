-- What issue 14 still asks for, left for the next session (each a pending spec until built).
describe("issue 14, not built yet", function ()
  pending("efficiencies per calculator class (Vidur's residual add reaches 90% of HBM, its SiluAndMul 50%: " ..
    "one elementwise_memory fits neither; docs/validation.md's worst errors)")
end)
