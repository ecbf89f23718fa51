-- Pricing a module lmp has no calculator for, without touching modules_lua/: the script
-- defines the calculator inline (here Primer's squared ReLU, y = relu(x)^2), checks it as
-- generated calculators are checked, registers it with lmp.register, and analyses a small
-- feed-forward block, written as model JSON in the script, that uses it.
--
--   lmp examples/custom_module.lua [BATCH] [SEQ]      (default: 4 128)

local batch, seq = math.tointeger(tonumber(arg[1] or "4")), math.tointeger(tonumber(arg[2] or "128"))
local kernels = lmp.kernels -- checked integer arithmetic, the same table calculators see

local squared_relu = {
  full_class_name = "mylib.activations.SquaredReLU",
  required_parameters = function () return { numel = "int", a_bits = "posint" } end,
  params = function () return 0 end,
  matmul_flops = function () return 0 end,
  -- max(x, 0), then x * x: two FLOPs an element
  flops = function (p) return kernels.elementwise(p.numel, kernels.COST.relu + kernels.COST.mul) end,
  memory = function (p)
    local bytes = kernels.bytes(p.numel, p.a_bits)
    return { reads = bytes, writes = bytes, intermediates = 0 }
  end,
  -- for --phase train: g * 2 * relu(x), two FLOPs an element
  backward = function (p) return { flops = kernels.elementwise(p.numel, 2), matmul_flops = 0 } end,
}

local problems = lmp.check_calculator(squared_relu)
assert(#problems == 0, table.concat(problems, "\n"))
lmp.register(squared_relu)

-- d_model 512 -> 2048 -> 512, over every token; the ${...} formulas read the analysis inputs
local model = lmp.load_model_string([[
{ "model_id": "example/squared-relu-ffn",
  "layers": [
    { "name": "ffn", "class": "mylib.FeedForward", "sub_layers": [
      { "name": "up", "class": "torch.nn.modules.linear.Linear",
        "parameters": { "N": "${batch_size} * ${seq_len}", "in_features": 512, "out_features": 2048, "bias": true } },
      { "name": "act", "class": "mylib.activations.SquaredReLU",
        "parameters": { "numel": "${batch_size} * ${seq_len} * 2048" } },
      { "name": "down", "class": "torch.nn.modules.linear.Linear",
        "parameters": { "N": "${batch_size} * ${seq_len}", "in_features": 2048, "out_features": 512, "bias": true } }
    ] }
  ] }]])

local function commas(n) return (tostring(n):reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")) end

local r = lmp.analyze(model, { batch_size = batch, seq_len = seq })
print(("%s, batch %d, seq %d: %s"):format(r.model_id, batch, seq, r.complete and "every layer priced" or "INCOMPLETE"))
print(("%-9s %-12s %14s %14s %10s %12s"):format("layer", "class", "FLOPs", "matmul FLOPs", "params", "bytes moved"))
for node in r:nodes() do
  print(("%-9s %-12s %14s %14s %10s %12s"):format(node.path, node.class:match("[^.]+$"), commas(node.flops),
    commas(node.matmul_flops), commas(node.params), commas(node.reads_bytes + node.writes_bytes)))
end
-- training runs each calculator's backward() as well
local train = lmp.analyze(model, { batch_size = batch, seq_len = seq, phase = "train" }).totals
print(("training step: %s FLOPs, of which backward %s"):format(commas(train.flops), commas(train.backward_flops)))
