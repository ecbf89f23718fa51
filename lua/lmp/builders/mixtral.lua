-- Mixtral (transformers models/mixtral/modeling_mixtral.py, as of 4.40): MixtralForCausalLM,
-- Llama-shaped attention with the MLP replaced by block_sparse_moe (MixtralSparseMoeBlock):
--   gate            Linear(hidden, num_local_experts), no bias, over every token
--   routing         softmax over the experts, torch.topk of num_experts_per_tok, the top-k
--                   weights divided by their sum
--   experts         num_local_experts x MixtralBlockSparseTop2MLP (w2(act(w1 x) * w3 x)),
--                   "active": num_experts_per_tok of them per token: each expert is written
--                   over all tokens and the host counts `active` instances of its work
--   weighting       each expert's output times its routing weight, then index_add_ into the
--                   output: k multiplies and k adds per token and hidden unit
local llama = require "lmp.builders.llama"

local mixtral = { model_types = { "mixtral" } }

local M = "transformers.models.mixtral.modeling_mixtral."

function mixtral.build(cfg, b)
  local s = llama.shape(cfg)
  s.window = cfg:has("sliding_window") and cfg:int("sliding_window") or nil -- as Mistral's (null in 8x7B)
  local experts = cfg:int("num_local_experts")
  local k = cfg:int("num_experts_per_tok")
  if k > experts then cfg:fail("num_experts_per_tok", ("%d is more than num_local_experts (%d)"):format(k, experts)) end
  local h, f = s.hidden, s.inter
  local routed = ("(%s) * %d"):format(b.TOKENS, k)  -- (token, chosen expert) pairs
  local expert = b.block("experts", M .. "MixtralBlockSparseTop2MLP", {
    b.linear("w1", h, f, false),
    b.elementwise("act_fn", b.activation_class(cfg, "hidden_act", "silu"), f),
    b.linear("w3", h, f, false),
    b.mul("mul", f),
    b.linear("w2", f, h, false),
  }, experts)
  expert["active"] = k
  local moe = b.block("block_sparse_moe", M .. "MixtralSparseMoeBlock", {
    b.linear("gate", h, experts, false),
    b.elementwise("softmax", "torch.nn.modules.activation.Softmax", experts),
    b.layer("topk", "torch.topk", { rows = b.TOKENS, width = experts, k = k }),
    b.layer("routing_sum", "torch.sum", { rows = b.TOKENS, width = k }),
    b.layer("routing_div", "torch.div", { numel = routed, divisor_numel = b.TOKENS }),
    expert,
    -- each (token, expert) output row times its one routing weight
    b.layer("routing_weight_mul", "torch.mul", { numel = ("(%s) * %d"):format(routed, h), broadcast_numel = routed }),
    b.add("index_add", h, routed),
  })
  return llama.decoder(cfg, b, s, { module = M, prefix = "Mixtral", norm = M .. "MixtralRMSNorm", mlp = moe })
end

return mixtral
