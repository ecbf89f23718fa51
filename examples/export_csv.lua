-- A per-layer CSV for a spreadsheet: one row per basic layer, figures as exact integers.
-- Figures are for one instance of the layer, as lmp's tree shows them; `instances` is how
-- many the model has (the repeats above it) and `runs` how many a token goes through (the
-- same, except under a mixture of experts, where only `active` experts run). So
-- SUMPRODUCT(runs, flops) is the model's FLOPs and SUMPRODUCT(instances, params) its
-- parameters; the script checks both against the totals before it writes.
--
--   lmp examples/export_csv.lua OUT.csv [MODEL] [SEQ] [BATCH] [PHASE]
--   (default MODEL models/llama-2-7b-hf.json, SEQ 2048, BATCH 1, PHASE prefill; MODEL may
--    be a config.json; PHASE decode means one token over SEQ - 1 cached ones)

local out = arg[1]
if not out then
  io.stderr:write("usage: lmp examples/export_csv.lua OUT.csv [MODEL] [SEQ] [BATCH] [PHASE]\n")
  os.exit(lmp.EXIT.USAGE)
end
local path = arg[2] or (lmp.home .. "/models/llama-2-7b-hf.json")
local seq, batch = math.tointeger(tonumber(arg[3] or "2048")), math.tointeger(tonumber(arg[4] or "1"))
local phase = arg[5] or "prefill"
local model = lmp.read_config(path).layers and lmp.load_model(path) or lmp.load_config(path)

local inputs = { batch_size = batch, seq_len = seq, phase = phase }
if phase == "decode" then inputs.seq_len, inputs.kv_len = 1, seq - 1 end
local r = lmp.analyze(model, inputs)

local FIGURES = { "flops", "matmul_flops", "params", "reads_bytes", "writes_bytes", "intermediates_bytes",
                  "weight_bytes", "state_bytes" }
local lines = { "path,class,instances,runs," .. table.concat(FIGURES, ",") }
-- exact sums: lmp.eval works in 128-bit integers, and takes figures past 2^63 (which lmp
-- gives as decimal strings) when they are written into the formula as numbers
local function muladd(sum, n, x) return lmp.eval(("%s + %s * %s"):format(sum, n, x)) end
local flops, params = 0, 0
local function walk(nodes, instances, runs)
  for _, node in ipairs(nodes or {}) do
    if node.children then
      walk(node.children, instances * node["repeat"], runs * (node.active or node["repeat"]))
    else
      local row = { node.path, node.class, instances, runs }
      for _, f in ipairs(FIGURES) do row[#row + 1] = tostring(node[f]) end
      lines[#lines + 1] = table.concat(row, ",")
      flops, params = muladd(flops, runs, node.flops), muladd(params, instances, node.params)
    end
  end
end
walk(r.tree, 1, 1)
assert(flops == r.totals.flops and params == r.totals.params, "the rows do not add up to the totals")

local f = assert(io.open(out, "w"))
f:write(table.concat(lines, "\n"), "\n")
f:close()
print(("%s | %s | batch %d, seq %d: wrote %d layers to %s"):format(r.model_id, phase, batch, seq, #lines - 1, out))
print(("SUMPRODUCT(runs, flops)       = %s = totals.flops"):format(flops))
print(("SUMPRODUCT(instances, params) = %s = totals.params"):format(params))
