-- Inference phases, generate, memory footprint and training, checked against figures
-- derived by hand for Llama-2-7B (multi-head) and Mistral-7B (grouped-query: 8 KV heads).
-- Both models are built from their real config.json by the builders.
local lmp = require "lmp"

local CONFIGS = require("spec.helpers").CONFIGS
local llama, mistral
local function models()
  if not llama then
    llama = lmp.load_config(CONFIGS .. "meta-llama--Llama-2-7b-hf.json")
    mistral = lmp.load_config(CONFIGS .. "mistralai--Mistral-7B-v0.1.json")
  end
  return llama, mistral
end

-- Both run model.rotary_emb once a forward: inv_freq @ position_ids, B * seq * 128 matmul FLOPs.
-- Llama-2-7B: hidden 4096, 32 layers, 32 heads of 128 (32 KV heads), MLP 11008, vocab 32000.
-- Linear weights (every matrix a token multiplies through, lm_head included):
--   32 * (4*4096^2 + 3*4096*11008) + 4096*32000 = 32 * 202,375,168 + 131,072,000 = 6,607,077,376
local LLAMA_PARAMS = 6738415616
-- Mistral-7B: hidden 4096, 32 layers, 32 query heads and 8 KV heads of 128, MLP 14336.
--   per layer q, o: 2 * 4096^2 = 33,554,432; k, v: 2 * 4096*1024 = 8,388,608;
--   MLP 3*4096*14336 = 176,160,768; sum 218,103,808; x32 = 6,979,321,856; + lm_head 131,072,000
--   = 7,110,393,856
local MISTRAL_PARAMS = 7241732096

describe("decode", function ()
  it("Llama-2-7B: one token over 2047 cached: matmuls, KV-cache reads and writes", function ()
    local m = models()
    local r = lmp.analyze(m, { seq_len = 1, kv_len = 2047 })
    -- 2*1*6,607,077,376 + 4*32 layers*1*32 heads*1*2048 keys*128 + rotary 1*1*128
    --   = 13,214,154,752 + 1,073,741,824 + 128 = 14,287,896,704
    assert.are.equal(14287896704, r.totals.matmul_flops)
    -- the cache after the step: K and V, 32 layers, 32 heads, 2048 tokens, 128 dims, 2 bytes
    -- 2*32*32*2048*128*2 = 1,073,741,824
    assert.are.equal(1073741824, r.totals.state_bytes)
    assert.are.equal(1073741824, r.footprint.kv_cache)
    -- weights read: every parameter once at 2 bytes except the embedding table, of which
    -- the gather reads one row: 2*(6,738,415,616 - 131,072,000) + 2*4096 = 13,214,695,424
    assert.are.equal(13214695424, r.totals.weight_bytes)
  end)

  it("Mistral-7B (GQA): K/V traffic and cache scale with the 8 KV heads, not the 32 query heads", function ()
    local _, m = models()
    local r = lmp.analyze(m, { seq_len = 1, kv_len = 4095, batch_size = 2, kv_bits = 8 })
    -- matmuls: 2*2 tokens*7,110,393,856 + 4*32 layers*2*32 heads*1*4096 keys*128 + rotary 2*1*128
    --        = 28,441,575,424 + 4,294,967,296 + 256 = 32,736,542,976
    assert.are.equal(32736542976, r.totals.matmul_flops)
    -- cache: 2 (K,V) * 32 layers * 2 batch * 8 heads * 4096 tokens * 128 * 1 byte = 536,870,912
    assert.are.equal(536870912, r.totals.state_bytes)
    -- the same context with 32 KV heads would hold 4x that: the GQA saving
  end)
end)

describe("generate", function ()
  it("Llama-2-7B: a 2048-token prompt and 100 new tokens, summed exactly", function ()
    local m = models()
    local r = lmp.generate(m, { prompt_len = 2048, new_tokens = 100 })
    -- prefill: the 32 layers' linears 6,607,077,376 - 131,072,000 = 6,476,005,376 over 2048 tokens,
    -- lm_head over the last one only (generate's logits_to_keep=1), attention over 2048^2:
    --   2*2048*6,476,005,376 + 2*131,072,000 + 4*32*2048^2*4096 + rotary 2048*128 = 28,725,003,681,792
    -- then 99 decode steps over 2048..2146 cached tokens, attending 2049..2147 keys:
    --   99 * (2*6,607,077,376 + rotary 128) = 1,308,201,333,120
    --   4*32*4096 * (2049 + ... + 2147) = 524,288 * 207,702 = 108,895,666,176
    -- total 28,725,003,681,792 + 1,308,201,333,120 + 108,895,666,176 = 30,142,100,681,088
    assert.are.equal(30142100681088, r.totals.matmul_flops)
    -- the cache after the last step holds 2147 tokens: 2*32*32*2147*128*2 = 1,125,646,336
    assert.are.equal(1125646336, r.totals.state_bytes)
    assert.are.equal(LLAMA_PARAMS, r.totals.params)
    -- closed form, not a loop: a handful of decode analyses for 99 steps
    assert.is_true(r.decode_analyses <= 8)
  end)

  it("Mistral-7B: agrees with summing every step one by one", function ()
    local _, m = models()
    local r = lmp.generate(m, { prompt_len = 5, new_tokens = 40, batch_size = 3 })
    local want = lmp.analyze(m, { seq_len = 5, batch_size = 3, logits_len = 1 }).totals
    local sum = { matmul_flops = want.matmul_flops, flops = want.flops, reads_bytes = want.reads_bytes,
                  writes_bytes = want.writes_bytes }
    for kv = 5, 5 + 38 do
      local t = lmp.analyze(m, { seq_len = 1, kv_len = kv, batch_size = 3 }, { depth = 0 }).totals
      for k in pairs(sum) do sum[k] = sum[k] + t[k] end
    end
    for k, v in pairs(sum) do assert.are.equal(v, r.totals[k], k) end
    -- matmuls by hand: prefill 2*15*(7,110,393,856 - 131,072,000) + 2*3*131,072,000 (lm_head: the last
    --   token of each sequence) + 4*32*3*32*5*5*128 + rotary 3*5*128
    --   = 209,379,655,680 + 786,432,000 + 39,321,600 + 1,920 = 210,205,411,200
    -- decode: 39 steps * (2*3*7,110,393,856 + rotary 3*128) = 1,663,832,177,280, plus
    --   4*32*3*32*128 * (6 + ... + 44) = 1,572,864 * 975 = 1,533,542,400
    -- total 210,205,411,200 + 1,663,832,177,280 + 1,533,542,400 = 1,875,571,130,880
    assert.are.equal(1875571130880, r.totals.matmul_flops)
  end)

  it("projects only the prompt's last position through lm_head, as transformers' generate does", function ()
    local m = models()
    local r = lmp.generate(m, { prompt_len = 2048, new_tokens = 256 })
    local all = lmp.generate(m, { prompt_len = 2048, new_tokens = 256, logits_len = 2048 })
    -- every logit of the prompt costs 2*B*(P-1)*hidden*vocab = 2*2047*4096*32000 = 536,608,768,000 more
    assert.are.equal(536608768000, all.totals.flops - r.totals.flops)
    assert.are.equal(1, r.inputs.logits_len)
    -- the prefill phase keeps the plain forward's logits: every position
    assert.are.equal(2 * 2048 * 4096 * 32000, lmp.analyze(m, { seq_len = 2048 }):find("lm_head")[1].matmul_flops)
    assert.error_matches(function () lmp.generate(m, { prompt_len = 8, new_tokens = 2, logits_len = 9 }) end,
      "logits_len must be at most seq_len %(8%), got 9")
  end)
end)

describe("footprint", function ()
  it("Llama-2-7B at 4-bit weights and 8-bit KV: weights, cache, peak activation", function ()
    local m = models()
    local r = lmp.analyze(m, { seq_len = 4096, batch_size = 1, w_bits = 4, kv_bits = 8, attention = "eager" })
    -- weights: 6,738,415,616 * 4 / 8 = 3,369,207,808 bytes
    assert.are.equal(3369207808, r.footprint.weights)
    -- cache: 2*32*32*4096*128*1 = 1,073,741,824
    assert.are.equal(1073741824, r.footprint.kv_cache)
    -- peak: the attention's working set: Q (32*4096*128*2 B = 33,554,432), K and V from the
    -- cache (2*32*4096*128*1 B = 33,554,432), output 33,554,432, scores and probabilities
    -- (2*32*4096*4096*2 B = 2,147,483,648): 2,248,146,944
    assert.are.equal(2248146944, r.footprint.peak_activation)
    assert.are.equal(3369207808 + 1073741824 + 2248146944, r.footprint.total)
    -- fused attention (sdpa, the default) stores no scores: the largest working set is then
    -- lm_head's, its input 4096*4096*2 B = 33,554,432 and logits 4096*32000*2 B = 262,144,000
    r = lmp.analyze(m, { seq_len = 4096, batch_size = 1, w_bits = 4, kv_bits = 8 })
    assert.are.equal(33554432 + 262144000, r.footprint.peak_activation)
  end)
end)

describe("training", function ()
  it("Llama-2-7B: forward + backward matmuls derived per module, and Adam memory", function ()
    local m = models()
    local r = lmp.analyze(m, { seq_len = 2048, phase = "train", attention = "eager" })
    -- forward: 2*2048*6,607,077,376 + 4*32*2048^2*4096 = 29,261,612,187,648, + rotary 2048*128 = 262,144
    -- backward: every Linear has an input and a weight gradient (2 products of the forward's
    -- size), eager attention four products against the forward's two: 2 * 29,261,612,187,648
    -- = 58,523,224,375,296; the rotary tables none (torch.no_grad)
    assert.are.equal(58523224375296, r.totals.backward_matmul_flops)
    -- fused attention (sdpa, the default) recomputes the scores: five products, 2.5 times the
    -- forward's 4*32*2048^2*4096 = 2,199,023,255,552: 2 * 27,062,588,932,096 + 5,497,558,138,880
    assert.are.equal(54125177864192 + 5497558138880,
      lmp.analyze(m, { seq_len = 2048, phase = "train" }).totals.backward_matmul_flops)
    assert.are.equal(87784836825088, r.totals.matmul_flops) -- 29,261,612,449,792 + 58,523,224,375,296
    -- mixed-precision Adam: 2 (weights) + 2 (gradients) + 12 (fp32 master, m, v) bytes a parameter
    assert.are.equal(LLAMA_PARAMS * 2, r.footprint.weights)
    assert.are.equal(LLAMA_PARAMS * 2, r.footprint.gradients)
    assert.are.equal(LLAMA_PARAMS * 12, r.footprint.optimizer)
  end)

  it("Mistral-7B (GQA): backward matmuls are twice the forward's", function ()
    local _, m = models()
    local r = lmp.analyze(m, { seq_len = 512, batch_size = 2, phase = "train", attention = "eager" })
    -- forward: 2*1024*7,110,393,856 + 4*32*2*32*512^2*128 = 14,562,086,617,088 + 274,877,906,944
    --        = 14,836,964,524,032; backward twice that: 29,673,929,048,064; the rotary tables
    --   2*512*128 = 131,072 in the forward only
    assert.are.equal(29673929048064, r.totals.backward_matmul_flops)
    assert.are.equal(44510893703168, r.totals.matmul_flops) -- 14,836,964,655,104 + 29,673,929,048,064
    assert.are.equal(MISTRAL_PARAMS, r.totals.params)
  end)

  it("matches Megatron-LM's FLOPs for a GPT configuration once recomputation is taken out", function ()
    -- GPT-2 small: h 768, l 12, V 50257, s 1024, B 4. Narayanan et al. 2021 Eq. 3 counts a
    -- training iteration with activation recomputation:
    --   F = 96*B*s*l*h^2 * (1 + s/(6h) + V/(16*l*h)) = 96Bslh^2 + 16Bs^2lh + 6BshV
    -- Recomputation runs every layer's forward once more (24Bsh^2 + 4Bs^2h per layer); lmp
    -- counts training without it, so ours must be F - (24Bslh^2 + 4Bs^2lh)
    --   = 72Bslh^2 + 12Bs^2lh + 6BshV (embeddings and positions have no matmuls).
    local B, s, l, h, V = 4, 1024, 12, 768, 50257
    local F = 96 * B * s * l * h * h + 16 * B * s * s * l * h + 6 * B * s * h * V
    local recompute = 24 * B * s * l * h * h + 4 * B * s * s * l * h
    -- F = 4,350,183,211,008 FLOPs, recomputation 850,403,524,608: ours 3,499,779,686,400
    assert.are.equal(3499779686400, F - recompute)
    local gpt2 = lmp.load_config(CONFIGS .. "openai-community--gpt2.json")
    -- Megatron-LM's attention is the unfused one: eager (fused recomputes the scores)
    local r = lmp.analyze(gpt2, { seq_len = s, batch_size = B, phase = "train", attention = "eager" })
    assert.are.equal(F - recompute, r.totals.matmul_flops)
  end)
end)
