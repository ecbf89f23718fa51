-- Calculator parameters that have a constructor default in PyTorch (or transformers) take that
-- default when left out. The table below is written from the documented signatures; every
-- bundled calculator is checked against it, and, where python3-torch is installed, the
-- table against inspect.signature of the real classes.
local lmp = require "lmp"

-- full class name -> { parameter = default }, from the signature quoted beside it
local DOCUMENTED = {
  -- torch.nn.Linear(in_features, out_features, bias=True, device=None, dtype=None)
  ["torch.nn.modules.linear.Linear"] = { bias = true },
  -- class FalconLinear(nn.Linear): Linear's constructor
  ["transformers.models.falcon.modeling_falcon.FalconLinear"] = { bias = true },
  -- torch.nn.Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
  --                 groups=1, bias=True, padding_mode='zeros', device=None, dtype=None)
  ["torch.nn.modules.conv.Conv1d"] = { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true },
  -- torch.nn.Conv2d(...same...), stride/padding/dilation per axis here
  ["torch.nn.modules.conv.Conv2d"] = { stride_h = 1, stride_w = 1, padding_h = 0, padding_w = 0,
                                       dilation_h = 1, dilation_w = 1, groups = 1, bias = true },
  -- torch.nn.LayerNorm(normalized_shape, eps=1e-05, elementwise_affine=True, bias=True, device=None, dtype=None)
  ["torch.nn.modules.normalization.LayerNorm"] = { elementwise_affine = true, bias = true },
  -- torch.nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None)
  ["torch.nn.modules.normalization.RMSNorm"] = { elementwise_affine = true },
  -- torch.nn.GELU(approximate='none')
  ["torch.nn.modules.activation.GELU"] = { approximate = "none" },
  -- torch.nn.PReLU(num_parameters=1, init=0.25, device=None, dtype=None): one slope shared by all channels
  ["torch.nn.modules.activation.PReLU"] = { num_parameters = 1 },
  -- F.scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
  --                                is_causal=False, scale=None, enable_gqa=False): no mask; v_head_dim
  --                                is lmp's own (0: head_dim), the values' head size (DeepSeek's MLA)
  ["torch.nn.functional.scaled_dot_product_attention"] = { masked = false, v_head_dim = 0, attention = 1 }, -- sdpa: lmp's input default
  -- T5Attention._relative_position_bucket(relative_position, bidirectional=True, num_buckets=32, max_distance=128)
  ["transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket"] = { bidirectional = true },
  -- torch.nn.BatchNorm2d(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, ...)
  ["torch.nn.modules.batchnorm.BatchNorm2d"] = { affine = true },
  -- torch.nn.MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False),
  -- per axis here; stride=None means the kernel size, which the export writes out
  ["torch.nn.modules.pooling.MaxPool2d"] = { padding_h = 0, padding_w = 0, dilation_h = 1, dilation_w = 1,
                                            ceil_mode = false },
  -- torch.nn.MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
  --                             add_zero_attn=False, kdim=None, vdim=None, batch_first=False, ...)
  ["torch.nn.modules.activation.MultiheadAttention"] = { bias = true, add_bias_kv = false, add_zero_attn = false },
  -- lmp's own, no constructor's: the size of a broadcast second operand (0: as large as the first)
  ["torch.add"] = { broadcast_numel = 0 },
  ["torch.mul"] = { broadcast_numel = 0 },
  ["torch.sub"] = { broadcast_numel = 0 },
  -- and one product unless more are batched
  ["torch.matmul"] = { batch = 1 },
  -- lmp's own: false for a cache of one tensor a token (DeepSeek's MLA latent) in place of K and V
  ["transformers.cache_utils.StaticCache"] = { values = true },
}
-- The others take nothing with a default that changes a count: Embedding(num_embeddings,
-- embedding_dim, padding_idx=None, ...), Dropout(p=0.5, inplace=False), Softmax(dim=None),
-- ReLU/SiLU(inplace=False), Tanh(), LeakyReLU(negative_slope=0.01, inplace=False), ClippedGELUActivation(min, max),
-- XIELUActivation(alpha_p_init=0.8, ...), Conv1D(nf, nx), LlamaRMSNorm(hidden_size, eps=1e-6), ...
-- (eps, p, dim, inplace, padding_idx, negative_slope, min/max and initial values are not calculator parameters).

local function defaults_of(full)
  local _, defaults = lmp.get_required_parameters(full)
  for _, k in ipairs({ "w_bits", "a_bits", "kv_bits" }) do defaults[k] = nil end -- direct calls' 16
  return defaults
end

local function bundled()
  local out = {}
  for _, entry in ipairs(lmp.registry.list()) do
    if entry.dir == lmp.home .. "/modules_lua" and not entry.shadowed_by then out[#out + 1] = entry.full_class_name end
  end
  return out
end

describe("constructor defaults", function ()
  it("every bundled calculator has exactly the documented ones", function ()
    local names = bundled()
    assert.is_true(#names >= 38, #names)
    for _, full in ipairs(names) do
      assert.are.same(DOCUMENTED[full] or {}, defaults_of(full), full)
    end
    for full in pairs(DOCUMENTED) do assert.is_not_nil(lmp.registry.find(full), full) end
  end)

  it("are taken when a parameter is left out", function ()
    -- Conv2d 3 -> 8, 3x3 on 5x5 with the defaults: stride 1, no padding, so 3x3 outputs;
    -- 2*(1*9)*(3*3*3)*8 = 3,888 + bias 8*9 = 72
    local given = { batch_size = 1, in_channels = 3, out_channels = 8, kernel_h = 3, kernel_w = 3, height = 5, width = 5 }
    assert.are.equal(3960, lmp.compute_flops("torch.nn.Conv2d", given))
    -- Conv1d 4 -> 6, k 3 over 10: 8 outputs; 2*8*(4*3)*6 = 1,152 + bias 6*8 = 48
    assert.are.equal(1200, lmp.compute_flops("torch.nn.Conv1d",
      { batch_size = 1, in_channels = 4, out_channels = 6, kernel_size = 3, length = 10 }))
    -- LayerNorm over 2 rows of 8 with weight and bias: (5 + 1 + 1) * 16 = 112; params 2*8 = 16
    local ln = { N = 2, normalized_shape = 8 }
    assert.are.equal(112, lmp.compute_flops("torch.nn.LayerNorm", ln))
    assert.are.equal(16, lmp.compute_params("torch.nn.LayerNorm", ln))
    -- RMSNorm with its weight: (3 + 1) * 16 = 64; params 8
    assert.are.equal(64, lmp.compute_flops("torch.nn.RMSNorm", ln))
    assert.are.equal(8, lmp.compute_params("torch.nn.RMSNorm", ln))
    -- GELU's erf form, 5 an element
    assert.are.equal(50, lmp.compute_flops("torch.nn.GELU", { numel = 10 }))
    -- relative_position_bucket, bidirectional: 1 + 13 a pair over 2 x 3 pairs
    assert.are.equal(84, lmp.compute_flops("transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket",
      { q_len = 2, key_len = 3 }))
  end)

  it("can still be overridden", function ()
    -- stride 2, padding 1 on 5x5, 3x3: (5 + 2 - 3) // 2 + 1 = 3 per axis, the same 9 positions
    -- as above; groups 1, no bias: 3,888
    assert.are.equal(3888, lmp.compute_flops("torch.nn.Conv2d", { batch_size = 1, in_channels = 3, out_channels = 8,
      kernel_h = 3, kernel_w = 3, height = 5, width = 5, stride_h = 2, stride_w = 2, padding_h = 1, padding_w = 1,
      bias = false }))
    assert.are.equal(0, lmp.compute_params("torch.nn.LayerNorm", { N = 2, normalized_shape = 8, elementwise_affine = false }))
  end)
end)

-- The table above against the installed PyTorch. A calculator parameter maps to the argument
-- of the same name, or without its _h/_w axis suffix; `masked` to attn_mask/is_causal.
local PY = [[
import importlib, inspect, json, sys
out = {}
for full in sys.argv[1:]:
    mod, _, name = full.rpartition(".")
    try:
        obj = getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError):
        out[full] = None
        continue
    sig = inspect.signature(obj.__init__ if inspect.isclass(obj) else obj)
    out[full] = {k: (None if p.default is None else ("<required>" if p.default is inspect.Parameter.empty else p.default))
                 for k, p in sig.parameters.items() if k != "self"}
print(json.dumps(out, default=repr))
]]

local function python_with_torch()
  for _, py in ipairs({ "/usr/bin/python3", "python3" }) do
    if os.execute(py .. " -c 'import torch' >/dev/null 2>&1") then return py end
  end
end

describe("constructor defaults against the installed PyTorch", function ()
  local py = python_with_torch()
  if not py then
    pending("python3-torch is not installed (apt-get install python3-torch): the documented table is checked alone")
    return
  end
  local classes = {}
  for full in pairs(DOCUMENTED) do
    if full:match("^torch%.nn%.") then classes[#classes + 1] = full end
  end
  table.sort(classes)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(PY)
  f:close()
  local pipe = io.popen(py .. " " .. script .. " " .. table.concat(classes, " ") .. " 2>/dev/null")
  local text = pipe:read("a")
  pipe:close()
  os.remove(script)
  local signatures = lmp.json_decode(text, "inspect.signature output")

  for _, full in ipairs(classes) do
    local sig = signatures[full]
    if sig == lmp.null then
      pending(full .. " is not in the installed PyTorch (a newer class): its defaults are checked from the table only")
    else
      it(full .. " matches inspect.signature", function ()
        local calc = lmp.registry.get(full)
        local documented = DOCUMENTED[full]
        for _, name in ipairs(calc.names) do
          local arg = sig[name] ~= nil and name or name:gsub("_[hw]$", "")
          if name == "masked" then
            assert.are.equal(lmp.null, sig.attn_mask)
            assert.are.equal(false, sig.is_causal)
            assert.are.equal(false, documented.masked)
          elseif sig[arg] == lmp.null and documented[name] == nil then
            -- None in PyTorch means "from another argument" (MaxPool2d's stride is the kernel size,
            -- MultiheadAttention's kdim is embed_dim): the calculator asks for it, the export writes it
            assert.is_nil(select(2, lmp.get_required_parameters(full))[name], full .. " " .. name)
          elseif sig[arg] == "<required>" then
            assert.is_nil(documented[name], full .. " " .. name .. " has no default in PyTorch")
          elseif sig[arg] ~= nil then
            assert.are.equal(sig[arg], documented[name], full .. " " .. name)
          end -- not an argument of this version (LayerNorm's bias arrived in 2.1), or a runtime input
        end
      end)
    end
  end
end)
