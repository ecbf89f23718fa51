-- transformers.models.gemma2.modeling_gemma2.logit_softcapping: tanh soft-capping, cap * tanh(x / cap), of
-- the attention scores (eager_attention_forward's softcap, attn_logit_softcapping) and of the final logits
-- (Gemma2ForCausalLM.forward, final_logit_softcapping): three ops an element, the division by the cap
-- (COST.scale), tanh (COST.tanh) and the multiply by it (COST.scale). Backward: the two scalings (1 each)
-- and tanh's g * (1 - y^2) (BACKWARD_COST.tanh).
local calc = kernels.elementwise_calculator {
  full_class_name = "transformers.models.gemma2.modeling_gemma2.logit_softcapping",
  cost = kernels.COST.scale + kernels.COST.tanh + kernels.COST.scale,
  backward_cost = kernels.BACKWARD_COST.scale + kernels.BACKWARD_COST.tanh + kernels.BACKWARD_COST.scale,
}
-- the same three lines in Gemma3ForCausalLM.forward: one key, one calculator
calc.also = { "transformers.models.gemma3.modeling_gemma3.logit_softcapping" }
return calc
