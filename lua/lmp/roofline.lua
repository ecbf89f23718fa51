-- Time on hardware: each basic layer's FLOPs and bytes against the roofs of a hardware file
-- (lmp.hardware), with the efficiencies of its operation class, and the totals users ask for
-- (time to first token, time per output token, tokens/s, MFU, bandwidth use, energy).
-- These are predictions: docs/validation.md compares them with published measurements.
--
-- One basic layer, all its instances at once (they have the same shape, so the time of the
-- sum is the sum of the times):
--   tc = matmul FLOPs / (tensor peak x compute efficiency) + other FLOPs / (vector peak x
--        elementwise efficiency)
--   tm = bytes moved / (bandwidth x memory efficiency), bytes = reads + writes + twice the
--        intermediates (written, then read back)
--   t  = (tc^p + tm^p)^(1/p) + launches x kernel floor          p: the efficiency "sharpness"
-- The bound is the larger of tc and tm, or "latency" when the floors outweigh both.
local core = require "lmp.core"
local result_mod = require "lmp.result"

local roofline = {}

-- the operation class of a basic layer, which picks its efficiencies: attention's fused
-- products, other matrix products, norms, everything else
function roofline.op_class(node)
  local cls = node.class
  if cls:find("scaled_dot_product_attention", 1, true) or cls:find("MultiheadAttention", 1, true) then
    return "attention"
  end
  local m = tonumber(node.matmul_flops) or 0
  if m > 0 then return "gemm" end
  local short = cls:match("[^.]+$") or cls
  if short:find("Norm") or short:find("norm") then return "norm" end
  return "elementwise"
end

-- the compute type a layer runs in on hw and its peak (FLOP/s), for its matrix part
-- (tensor units) and the rest (vector units). A GEMM runs at the wider of its weight and
-- activation widths (weight-only int4 dequantises to the activations' bf16); fp32 is
-- PyTorch's default full-precision matmul (allow_tf32 off), on the vector units.
local PREFER = {
  [64] = { "fp64" }, [32] = { "fp32" }, [16] = { "bf16", "fp16" }, [8] = { "fp8", "int8" }, [4] = { "fp4" },
}
local WIDER = { 4, 8, 16, 32, 64 }

local function dtype_for(bits, table_)
  for _, width in ipairs(WIDER) do
    if width >= bits then
      for _, d in ipairs(PREFER[width]) do
        if table_ and table_[d] then return d, table_[d] * 1e12 end
      end
    end
  end
end

function roofline.compute_types(hw, node, class)
  local p = node.parameters or {}
  local a_bits = p.a_bits or 16
  local bits = a_bits
  if class == "gemm" and p.w_bits then bits = math.max(p.w_bits, a_bits) end
  local tensor_type, tensor_peak
  if bits >= 32 then -- full precision on the vector units (fp64: tensor units where they exist)
    tensor_type, tensor_peak = dtype_for(bits, bits == 64 and hw.tensor_TFLOPS or hw.vector_TFLOPS)
  end
  if not tensor_type then tensor_type, tensor_peak = dtype_for(bits, hw.tensor_TFLOPS) end
  local vector_type, vector_peak = dtype_for(a_bits, hw.vector_TFLOPS)
  return tensor_type, tensor_peak, vector_type, vector_peak
end

local function ratio(a, b) return b > 0 and a / b or 0 end
local function num(v) return tonumber(v) or 0 end

-- terms(hw, node, all) -> what a layer's time is made of, before any efficiency: its
-- operation class, matrix and other FLOPs, bytes moved, the tensor and vector peaks of its
-- compute type, and its GEMM rows (tokens). all: the layer's figures over all its instances
function roofline.terms(hw, node, all)
  local class = roofline.op_class(node)
  local tensor_type, tensor_peak, _, vector_peak = roofline.compute_types(hw, node, class)
  local flops, matmul = num(all.flops), num(all.matmul_flops)
  local m = node.parameters and node.parameters.N
  return { class = class, full_class = node.class, dtype = tensor_type, matmul = matmul, other = flops - matmul, flops = flops,
           bytes = num(all.reads_bytes) + num(all.writes_bytes) + 2 * num(all.intermediates_bytes),
           tensor_peak = tensor_peak or 0, vector_peak = vector_peak or 0,
           m = math.type(m) == "integer" and m or nil }
end

-- the efficiencies of each operation class: compute, memory
local CLASS_EFF = {
  gemm = { "gemm_compute", "gemm_memory" }, attention = { "attention_compute", "attention_memory" },
  norm = { "elementwise_compute", "norm_memory" }, elementwise = { "elementwise_compute", "elementwise_memory" },
}

-- time_of(terms, e, floor_us, launches) -> seconds, tc, tm, floor, bound: the model of the
-- header with efficiencies e (hardware.EFFICIENCY's keys) and a kernel floor of floor_us
function roofline.time_of(x, e, floor_us, launches)
  local keys = CLASS_EFF[x.class]
  local own = e.classes and e.classes[x.full_class] -- the calculator class's own, where given
  local ce, me = own and own.compute or e[keys[1]], own and own.memory or e[keys[2]]
  if x.class == "gemm" and e.gemm_half_m > 0 and x.m then ce = ce * x.m / (x.m + e.gemm_half_m) end
  -- a part with no published vector figure prices the non-matrix work on its bytes alone
  local tc = ratio(x.matmul, x.tensor_peak * ce) + ratio(x.other, x.vector_peak * e.elementwise_compute)
  local tm = ratio(x.bytes, x.bandwidth * me)
  local p = e.sharpness
  local roof = math.max(tc, tm)
  if roof > 0 then roof = roof * ((tc / roof) ^ p + (tm / roof) ^ p) ^ (1 / p) end
  local floor = launches * floor_us * 1e-6
  local bound = floor > math.max(tc, tm) and "latency" or (tc >= tm and "compute" or "memory")
  return roof + floor, tc, tm, floor, bound
end

-- layer_time(hw, node, all, launches) -> { seconds, compute_s, memory_s, floor_s, bound,
-- intensity, op_class, dtype }: the layer's figures over all its instances (all), run as
-- `launches` kernels (one an instance)
--
-- In training (the node has backward_flops) the forward and the backward pass are priced apart,
-- each against its own bytes (the backward's: backward_reads_bytes + backward_writes_bytes),
-- the backward as two kernels an instance (input and weight gradients); the result's figures
-- are their sums, backward_s the backward's part.
function roofline.layer_time(hw, node, all, launches)
  local bw = hw.memory_GBps * 1e9
  local function run(figures, n)
    local x = roofline.terms(hw, node, figures)
    x.bandwidth = bw
    local seconds, tc, tm, floor, bound = roofline.time_of(x, hw.efficiency, hw.kernel_floor_us, n)
    return { seconds = seconds, compute_s = tc, memory_s = tm, floor_s = floor, bound = bound,
             intensity = ratio(x.flops, x.bytes), op_class = x.class, dtype = x.dtype }
  end
  if node.backward_flops == nil then return run(all, launches) end -- a node has it in training only
  local fwd = run({ flops = num(all.flops) - num(all.backward_flops), matmul_flops = num(all.matmul_flops) -
                    num(all.backward_matmul_flops), reads_bytes = all.reads_bytes, writes_bytes = all.writes_bytes,
                    intermediates_bytes = all.intermediates_bytes }, launches)
  local bwd = run({ flops = all.backward_flops, matmul_flops = all.backward_matmul_flops,
                    reads_bytes = all.backward_reads_bytes, writes_bytes = all.backward_writes_bytes }, 2 * launches)
  local t = { seconds = fwd.seconds + bwd.seconds, compute_s = fwd.compute_s + bwd.compute_s,
              memory_s = fwd.memory_s + bwd.memory_s, floor_s = fwd.floor_s + bwd.floor_s, backward_s = bwd.seconds,
              op_class = fwd.op_class, dtype = fwd.dtype }
  local flops = num(all.flops)
  local bytes = num(all.reads_bytes) + num(all.writes_bytes) + 2 * num(all.intermediates_bytes) +
    num(all.backward_reads_bytes) + num(all.backward_writes_bytes)
  t.intensity = ratio(flops, bytes)
  t.bound = t.floor_s > math.max(t.compute_s, t.memory_s) and "latency" or (t.compute_s >= t.memory_s and "compute" or "memory")
  return t
end

-- optimizer_time(hw, bytes) -> seconds of the optimizer step: one fused (multi-tensor)
-- elementwise pass over every parameter's bytes (lmp.FIGURES optimizer_bytes)
function roofline.optimizer_time(hw, bytes)
  local e = hw.efficiency
  return num(bytes) / (hw.memory_GBps * 1e9 * e.elementwise_memory) + hw.kernel_floor_us * 1e-6
end

-- time(result, hw) -> per-layer times in node.time[hw.name] of every basic node shown and
-- composite sums in the same field; returns the total. The tree must be whole (no --depth
-- cut), since a cut composite has no basic layers left to price.
function roofline.time_tree(result, hw)
  local tokens = core.exact.mul(result.inputs.batch_size, result.inputs.seq_len)
  local total = { seconds = 0, compute_s = 0, memory_s = 0, floor_s = 0, layers = 0,
                  by_bound = { compute = 0, memory = 0, latency = 0 } }
  local function walk(nodes, above)
    local sum = 0
    for _, n in ipairs(nodes or {}) do
      local own, cum, _, all = result_mod.instance_figures(n, above, tokens)
      local t
      if n.children then
        t = { seconds = walk(n.children, cum), op_class = "composite" }
      elseif n.unknown then
        t = nil -- no figures: the report says UNKNOWN and the totals are incomplete
      else
        t = roofline.layer_time(hw, n, all, num(cum.a))
        total.backward_s = (total.backward_s or 0) + (t.backward_s or 0)
        total.compute_s = total.compute_s + t.compute_s
        total.memory_s = total.memory_s + t.memory_s
        total.floor_s = total.floor_s + t.floor_s
        total.layers = total.layers + 1
        total.by_bound[t.bound] = total.by_bound[t.bound] + t.seconds
      end
      if t then
        -- t.total_seconds: all its instances in the model (these sum to the total);
        -- t.seconds: the row's, its own xN repeat under one instance of its parent, as the
        -- other figures of a row
        t.total_seconds = n.children and t.seconds or t.seconds
        t.seconds = num(cum.a) > 0 and t.total_seconds * num(own.a) / num(cum.a) or 0
        n.time = n.time or {}
        n.time[hw.name] = t
        sum = sum + t.total_seconds
      end
    end
    return sum
  end
  total.seconds = walk(result.tree, result_mod.UNIT)
  return total
end

-- peak(hw, result) -> the tensor peak (FLOP/s) of the model's GEMMs' compute type, for MFU
function roofline.model_peak(hw, inputs)
  local bits = math.max(inputs.w_bits or 16, inputs.a_bits or 16)
  local fake = { class = "torch.nn.modules.linear.Linear", parameters = { w_bits = bits, a_bits = inputs.a_bits or 16 } }
  local dtype, peak = roofline.compute_types(hw, fake, "gemm")
  return peak, dtype
end

-- summary(hw, result, seconds) -> the totals of one step that took `seconds`: tokens/s,
-- MFU (flops over time x the GEMM peak), memory-bandwidth use, energy per token
function roofline.summary(hw, totals, inputs, seconds, tokens)
  local peak, dtype = roofline.model_peak(hw, inputs)
  -- training also moves the backward pass's and the optimizer step's bytes
  local bytes = num(totals.reads_bytes) + num(totals.writes_bytes) + num(totals.backward_reads_bytes) +
    num(totals.backward_writes_bytes) + num(totals.optimizer_bytes)
  local s = {
    seconds = seconds,
    tokens = tokens,
    tokens_per_s = ratio(tokens, seconds),
    mfu = peak and ratio(num(totals.flops), seconds * peak) or nil,
    mbu = ratio(bytes, seconds * hw.memory_GBps * 1e9),
    peak_dtype = dtype,
  }
  if hw.power_W then
    s.energy_J = hw.power_W * seconds
    s.energy_J_per_token = ratio(s.energy_J, tokens)
  end
  return s
end

-- the fraction of capacity a runtime keeps for itself (CUDA context, workspaces, allocator
-- slack): vLLM's default gpu_memory_utilization of 0.9 leaves 10%
roofline.RESERVE_FRACTION = 0.10

-- fit(hw, footprint, gpus) -> { fits, need_bytes, usable_bytes, capacity_bytes, margin_bytes,
-- gpus, reserve_fraction } for the footprint's total spread over `gpus` devices
function roofline.fit(hw, footprint, gpus)
  local capacity = math.floor(hw.memory_GiB * 2 ^ 30 + 0.5) * gpus
  local usable = math.floor(capacity * (1 - roofline.RESERVE_FRACTION))
  local need = num(footprint and footprint.total)
  return { gpus = gpus, fits = need <= usable, need_bytes = need, capacity_bytes = capacity, usable_bytes = usable,
           margin_bytes = usable - need, reserve_fraction = roofline.RESERVE_FRACTION }
end

return roofline
