-- What issue 15 still asks for (each a pending spec until built).
describe("issue 15, not built yet", function ()
  pending("FSDP's accounting beside ZeRO-3; tree collectives beside rings; the largest rank's temporary buffers")
  pending("fine-tuning: frozen parameters, LoRA and QLoRA adapters")
  pending("lmp plan at a million configurations a second (now ~13 a second: each priced by the walk; bench/run.lua)")
end)
