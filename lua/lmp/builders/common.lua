-- What every builder shares: a config reader that checks each field it is asked for (a
-- clear error naming the file and field, never a crash on a bad config), and constructors
-- for the layers of the standard model format. Parameter names match the calculators in
-- modules_lua/ (see `lmp module show CLASS`).
local core = require "lmp.core"

local common = {}

-- ---- config reader ----

local Reader = {}
Reader.__index = Reader

-- reader(config, source) -> cfg with typed getters; cfg.raw is the config table
function common.reader(config, source)
  return setmetatable({ raw = config, source = source }, Reader)
end

function Reader:fail(field, msg)
  core.error(core.EXIT.USAGE, ("%s: %s: %s"):format(self.source, field, msg))
end

local function describe(v)
  if type(v) == "string" then return ('"%s"'):format(v) end
  if v == nil or v == core.null then return "null" end
  return tostring(v)
end

-- has(field): present and not null
function Reader:has(field)
  local v = self.raw[field]
  return v ~= nil and v ~= core.null
end

-- int(field [, default [, {min=, max=}]]): an integer field; `default` when absent or null
-- (no default: the field is required). Sizes past `max` (default 2^24; 2^20 layers) are
-- refused as absurd rather than analysed.
function Reader:int(field, default, range)
  local v = self.raw[field]
  if v == nil or v == core.null then
    if default == nil then self:fail(field, "missing (an integer is required)") end
    return default
  end
  if math.type(v) ~= "integer" then
    if type(v) == "number" and v == math.floor(v) and math.abs(v) < 2^53 then v = math.tointeger(v)
    else self:fail(field, "expected an integer, got " .. describe(v)) end
  end
  local min, max = (range and range.min) or 1, (range and range.max) or (1 << 24)
  if v < min then self:fail(field, ("expected an integer >= %d, got %d"):format(min, v)) end
  if v > max then self:fail(field, ("%d is beyond %d: is this a real config?"):format(v, max)) end
  return v
end

function Reader:bool(field, default)
  local v = self.raw[field]
  if v == nil or v == core.null then
    if default == nil then self:fail(field, "missing (true or false is required)") end
    return default
  end
  if type(v) ~= "boolean" then self:fail(field, "expected true or false, got " .. describe(v)) end
  return v
end

function Reader:str(field, default, allowed)
  local v = self.raw[field]
  if v == nil or v == core.null then
    if default == nil then self:fail(field, "missing (a string is required)") end
    v = default
  end
  if type(v) ~= "string" then self:fail(field, "expected a string, got " .. describe(v)) end
  if allowed then
    for _, a in ipairs(allowed) do if a == v then return v end end
    self:fail(field, ("%s is not supported (supported: %s)"):format(describe(v), table.concat(allowed, ", ")))
  end
  return v
end

function Reader:num(field, default)
  local v = self.raw[field]
  if v == nil or v == core.null then
    if default == nil then self:fail(field, "missing (a number is required)") end
    return default
  end
  if type(v) ~= "number" then self:fail(field, "expected a number, got " .. describe(v)) end
  return v
end

-- layers(field [, default]) / vocab(field): int() of a layer count or a vocabulary size,
-- bounded at 2^20 layers and 2^26 tokens in place of 2^24
function Reader:layers(field, default) return self:int(field, default, { max = 1 << 20 }) end
function Reader:vocab(field) return self:int(field, nil, { max = 1 << 26 }) end

-- rotary_dims(field, default, head_dim) -> the values of each head a partial rotary turns:
-- python's int(head_dim * fraction), the fraction in (0, 1] and at least 2 values turned
function Reader:rotary_dims(field, default, head_dim)
  local fraction = self:num(field, default)
  if fraction <= 0 or fraction > 1 then self:fail(field, ("expected a number in (0, 1], got %s"):format(fraction)) end
  local dims = math.floor(head_dim * fraction)
  if dims < 2 then self:fail(field, ("rotates %d of %d values per head"):format(dims, head_dim)) end
  return dims
end

-- divides(field_a, a, field_b, b): a must be a multiple of b
function Reader:divides(field_a, a, field_b, b)
  if a % b ~= 0 then self:fail(field_a, ("%d is not a multiple of %s (%d)"):format(a, field_b, b)) end
  return a // b
end

-- ---- layer constructors ----

-- runtime templates
common.TOKENS = "${batch_size} * ${seq_len}"          -- rows of every per-token tensor
common.KEYS = "${kv_len} + ${seq_len}"                 -- keys a decoder attends over
function common.per_token(width) return ("${batch_size} * ${seq_len} * %d"):format(width) end
-- elements of the attention scores of `heads` heads, (batch, heads, seq_len, keys)
function common.scores(heads) return ("${batch_size} * %d * ${seq_len} * (%s)"):format(heads, common.KEYS) end

-- append(list, layers) -> list with layers added at its end (a block's optional parts)
function common.append(list, layers)
  table.move(layers, 1, #layers, #list + 1, list)
  return list
end

function common.block(name, class, sub_layers, rep)
  return { name = name, class = class, ["repeat"] = (rep and rep > 1) and rep or nil, sub_layers = sub_layers }
end

function common.layer(name, class, parameters)
  return { name = name, class = class, parameters = parameters }
end

function common.linear(name, in_features, out_features, bias, N)
  return common.layer(name, "torch.nn.modules.linear.Linear",
    { N = N or common.TOKENS, in_features = in_features, out_features = out_features, bias = bias and true or false })
end

-- the output projection to the vocabulary; tied_to (the input embedding's path, or
-- nil/false when untied) shares its weights. Its rows are the last logits_len positions of
-- each sequence (a causal LM's logits_to_keep; every position unless told), or N.
common.LOGITS = "${batch_size} * ${logits_len}"
function common.lm_head(name, hidden, vocab, bias, tied_to, N)
  local head = common.linear(name, hidden, vocab, bias, N or common.LOGITS)
  head.weights_tied_to = tied_to or nil
  return head
end

function common.embedding(name, num_embeddings, embedding_dim, N)
  return common.layer(name, "torch.nn.modules.sparse.Embedding",
    { N = N or common.TOKENS, num_embeddings = num_embeddings, embedding_dim = embedding_dim })
end

function common.layer_norm(name, d, bias, N)
  return common.layer(name, "torch.nn.modules.normalization.LayerNorm",
    { N = N or common.TOKENS, normalized_shape = d, elementwise_affine = true, bias = bias ~= false })
end

-- an elementwise op over `width` values per token: class is torch.add, torch.mul, an
-- activation module, ...
function common.elementwise(name, class, width, N)
  local numel = N and ("(" .. N .. ") * " .. width) or common.per_token(width)
  return common.layer(name, class, { numel = numel })
end

function common.add(name, width, N) return common.elementwise(name, "torch.add", width, N) end
function common.mul(name, width, N) return common.elementwise(name, "torch.mul", width, N) end
-- a multiply by one constant (a scaling): the second operand is a single element
function common.scale(name, width, N)
  local l = common.elementwise(name, "torch.mul", width, N)
  l.parameters.broadcast_numel = 1
  return l
end
function common.dropout(name, width, N) return common.elementwise(name, "torch.nn.modules.dropout.Dropout", width, N) end

-- attention scores and values: `q_len` queries over `key_len` keys per sequence
function common.sdpa(name, heads, kv_heads, head_dim, masked, q_len, key_len)
  return common.layer(name, "torch.nn.functional.scaled_dot_product_attention", {
    batch_size = "${batch_size}", num_heads = heads, num_kv_heads = kv_heads, head_dim = head_dim,
    q_len = q_len or "${seq_len}", key_len = key_len or common.KEYS, masked = masked ~= false })
end

-- kinds(list, title, make) -> one entry per distinct kind of decoder layer, in order of first
-- appearance: list[i] is layer i-1's kind (a string), make(kind, count) its block, given the
-- repeat count and a note "title(kind): layers 0, 4, 8, ..." (Llama 4, gpt-oss)
function common.kinds(list, title, make)
  local order, idx = {}, {}
  for i, kind in ipairs(list) do
    if not idx[kind] then order[#order + 1], idx[kind] = kind, {} end
    table.insert(idx[kind], i - 1)
  end
  local out = {}
  for _, kind in ipairs(order) do
    local at = idx[kind]
    local layer = make(kind, #at)
    layer.note = ("%s: layers %s%s"):format(title(kind), table.concat(at, ", ", 1, math.min(#at, 8)), #at > 8 and ", ..." or "")
    out[#out + 1] = layer
  end
  return out
end

-- apply_rotary_pos_emb (class: the family's copy of it) turning `dims` values of each
-- head of q (heads) and k (kv_heads): all of head_dim, or the first part of a partial rotary
function common.rotary(class, heads, kv_heads, dims)
  return common.layer("apply_rotary_pos_emb", class, { batch_size = "${batch_size}", seq_len = "${seq_len}",
    num_heads = heads, num_kv_heads = kv_heads, head_dim = dims })
end

-- the model's rotary embedding (class: the family's LlamaRotaryEmbedding copy), as transformers
-- 4.48 to 4.57 lay it out: one module under the model, registered after its final norm (where
-- print(model) shows it) and called once a forward before the decoder layers, computing the
-- cos/sin tables of the seq_len new positions from inv_freq @ position_ids (a matmul
-- FlopCounterMode counts; position_ids of batch_size rows, as generate passes them). dims: the
-- values of a head it turns (head_dim, or the rotary dim of a partial rotary).
function common.rotary_embedding(class, dims, name)
  return common.layer(name or "rotary_emb", class,
    { batch_size = "${batch_size}", seq_len = "${seq_len}", head_dim = dims })
end

-- the new tokens' K and V written into the KV cache (kv_bits); its state is the whole cache.
-- With a sliding window of `window` tokens the cache keeps at most the last `window`
-- (transformers' sliding-window cache layers): it writes min(seq_len, window) tokens and
-- holds min(kv_len + seq_len, window) once the call returns.
function common.kv_cache(name, kv_heads, head_dim, window)
  local new, cached = "${seq_len}", "${kv_len}"
  if window then
    new = ("min(${seq_len}, %d)"):format(window)
    cached = ("min(%s, %d) - %s"):format(common.KEYS, window, new)
  end
  return common.layer(name, "transformers.cache_utils.StaticCache",
    { batch_size = "${batch_size}", num_kv_heads = kv_heads, head_dim = head_dim,
      new_tokens = new, cached_tokens = cached })
end

-- keys a sliding-window layer attends over: the at most window - 1 cached tokens the window
-- still covers, and the seq_len new ones (so a one-token decode step reads
-- min(kv_len + 1, window) keys); a prefill is counted dense over its seq_len keys, as the
-- kernels execute it. nil window: every cached token (common.KEYS).
function common.window_keys(window)
  if not window then return common.KEYS end
  return ("min(${kv_len}, %d) + ${seq_len}"):format(window - 1)
end

-- the activation module class for a config's hidden_act / activation_function: every key
-- of transformers' ACT2FN (ACT2CLS in src/transformers/activations.py, 24 keys by 2026).
-- silu and gelu_pytorch_tanh keep the classes of the 4.3x-4.5x releases (nn.SiLU,
-- PytorchGELUTanh); the later SiLUActivation and GELUTanh compute the same and are priced
-- by those calculators (same_as).
common.ACTIVATIONS = {
  gelu = "transformers.activations.GELUActivation",
  gelu_10 = "transformers.activations.ClippedGELUActivation",
  gelu_fast = "transformers.activations.FastGELUActivation",
  gelu_new = "transformers.activations.NewGELUActivation",
  gelu_python = "transformers.activations.GELUActivation",
  gelu_pytorch_tanh = "transformers.activations.PytorchGELUTanh",
  gelu_python_tanh = "transformers.activations.GELUTanh",
  gelu_accurate = "transformers.activations.AccurateGELUActivation",
  hardswish = "torch.nn.modules.activation.Hardswish",
  laplace = "transformers.activations.LaplaceActivation",
  leaky_relu = "torch.nn.modules.activation.LeakyReLU",
  linear = "transformers.activations.LinearActivation",
  mish = "transformers.activations.MishActivation",
  quick_gelu = "transformers.activations.QuickGELUActivation",
  relu = "torch.nn.modules.activation.ReLU",
  relu2 = "transformers.activations.ReLUSquaredActivation",
  relu6 = "torch.nn.modules.activation.ReLU6",
  sigmoid = "torch.nn.modules.activation.Sigmoid",
  silu = "torch.nn.modules.activation.SiLU",
  sqrtsoftplus = "transformers.activations.SqrtSoftplusActivation",
  swish = "torch.nn.modules.activation.SiLU",
  tanh = "torch.nn.modules.activation.Tanh",
  prelu = "torch.nn.modules.activation.PReLU",
  xielu = "transformers.activations.XIELUActivation",
}

function common.activation_class(cfg, field, default)
  local names = {}
  for k in pairs(common.ACTIVATIONS) do names[#names + 1] = k end
  table.sort(names)
  return common.ACTIVATIONS[cfg:str(field, default, names)]
end

return common
