-- Mamba 2 (transformers models/mamba2/modeling_mamba2.py, model_type "mamba2"): Mamba2ForCausalLM =
-- backbone Mamba2Model (embeddings, layers x N of Mamba2Block, norm_f) + lm_head. A block is norm
-- (Mamba2RMSNorm), mixer (Mamba2Mixer), residual add. The mixer: in_proj to gate (intermediate), x B C
-- (conv_dim = intermediate + 2 * n_groups * state_size) and dt (num_heads); a depthwise conv1d over conv_dim
-- and its activation; the state-space scan (Mamba2Mixer.ssd: the chunked SSD in a prefill, the one-step
-- recurrence in decode) with the mixer's dt_bias, A_log, D; the recurrent state in Mamba2Cache in place of a
-- KV cache; the gated norm and out_proj. As torch_forward branches (transformers main): one new token over a
-- cache (kv_len > 0, seq_len 1) runs the kernel over the cached window and one step of the recurrence, so a
-- decode step's cost does not grow with kv_len; a prefill, or several tokens over a cache, the chunked SSD.
local mamba2 = { model_types = { "mamba2" } }

local M = "transformers.models.mamba2.modeling_mamba2."

function mamba2.build(cfg, b)
  local h, n, vocab = cfg:int("hidden_size"), cfg:layers("num_hidden_layers"), cfg:vocab("vocab_size")
  local heads, head_dim, state = cfg:int("num_heads"), cfg:int("head_dim", 64), cfg:int("state_size")
  local groups, kernel, chunk = cfg:int("n_groups", 8), cfg:int("conv_kernel", 4), cfg:int("chunk_size", 256)
  local expand = cfg:num("expand", 2)
  local inter = expand * h
  if inter ~= math.floor(inter) or inter < 1 then cfg:fail("expand", ("%s * hidden_size is not a whole size"):format(expand)) end
  inter = math.tointeger(inter)
  if heads * head_dim ~= inter then
    cfg:fail("num_heads", ("%d heads of head_dim %d are not expand * hidden_size = %d"):format(heads, head_dim, inter))
  end
  cfg:divides("num_heads", heads, "n_groups", groups)
  local conv_dim = inter + 2 * groups * state
  local bias, act = cfg:bool("use_bias", false), b.activation_class(cfg, "hidden_act", "silu")
  local step = "${kv_len} > 0 && ${seq_len} == 1"
  local function parameter(name) return b.layer(name, "torch.nn.parameter.Parameter", { numel = heads }) end
  local mixer = b.block("mixer", M .. "Mamba2Mixer", {
    b.linear("in_proj", h, inter + conv_dim + heads, bias),
    -- one step: the kernel over the cached window (conv_states); else Conv1d with padding kernel - 1 over the
    -- new tokens, after the cached window when there is one (torch.cat([conv_state, x]))
    b.layer("conv1d", "torch.nn.modules.conv.Conv1d", {
      batch_size = "${batch_size}", in_channels = conv_dim, out_channels = conv_dim, kernel_size = kernel,
      groups = conv_dim, bias = cfg:bool("use_conv_bias", true),
      length = ("%s ? %d : ${seq_len} + (${kv_len} > 0 ? %d : 0)"):format(step, kernel, kernel),
      padding = ("%s ? 0 : %d"):format(step, kernel - 1) }),
    b.elementwise("act", act, conv_dim),
    parameter("dt_bias"), parameter("A_log"), parameter("D"),
    b.layer("ssd", M .. "Mamba2Mixer.ssd", {
      batch_size = "${batch_size}", seq_len = "${seq_len}", kv_len = "${kv_len}", num_heads = heads,
      head_dim = head_dim, state_size = state, n_groups = groups, chunk_size = chunk }),
    b.layer("cache_params", M .. "Mamba2Cache", {
      batch_size = "${batch_size}", conv_dim = conv_dim, conv_kernel = kernel, num_heads = heads,
      head_dim = head_dim, state_size = state, new_tokens = "${seq_len}" }),
    b.layer("norm", M .. "MambaRMSNormGated", { N = b.TOKENS, hidden_size = inter }),
    b.linear("out_proj", inter, h, bias),
  })
  local function norm(name) return b.layer(name, M .. "Mamba2RMSNorm", { N = b.TOKENS, hidden_size = h }) end
  return {
    b.block("backbone", M .. "Mamba2Model", {
      b.embedding("embeddings", vocab, h),
      b.block("layers", M .. "Mamba2Block", { norm("norm"), mixer, b.add("residual_add", h) }, n),
      norm("norm_f"),
    }),
    b.lm_head("lm_head", h, vocab, false, cfg:bool("tie_word_embeddings", false) and "backbone.embeddings"),
  }
end

return mamba2
