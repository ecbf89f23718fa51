-- lmp serve: the largest batch and the longest context that fit with a paged KV cache, the
-- times there, and speculative decoding's expected tokens a step.
local lmp = require "lmp"
local h = require "spec.helpers"
local serving = require "lmp.serving"

local TINY = "spec/fixtures/parallel/tiny-llama.json"

-- a small part for the small model: 1 MiB of memory (0.9 MiB usable), bandwidth and FLOPs of an A100
local HW = { name = "tiny-gpu", memory_GiB = 1 / 1024, memory_GBps = 2039, tensor_TFLOPS = { bf16 = 312 },
             kernel_floor_us = 2, sources = { memory_GiB = "-", memory_GBps = "-", tensor_TFLOPS = "-", kernel_floor_us = "-" } }

describe("a serving plan", function ()
  local hw = lmp.hardware(HW)
  local function rank(inputs, timed) return lmp.parallel(TINY, inputs, {}, { hw = timed and hw or nil }) end
  local ctx = { parallel = rank, hw = hw, gpus = 1, block = 16, max_positions = 512 }
  local usable = math.floor(2 ^ 20 * 0.9)

  -- the bytes a GPU holds for `batch` sequences of `context` tokens, from the model's figures
  local function need(batch, context)
    local padded = (context + 15) // 16 * 16
    local d = rank({ batch_size = batch, seq_len = 1, kv_len = padded - 1, phase = "decode" }).stages[1]
    local step = rank({ batch_size = batch, seq_len = 1, kv_len = 0, phase = "decode" }).stages[1]
    local p = rank({ batch_size = 1, seq_len = context, phase = "prefill" }).stages[1]
    return d.weights + d.kv_cache + math.max(step.peak_activation, p.peak_activation)
  end

  it("pages the KV cache in blocks of 16 tokens", function ()
    -- K and V, 4 layers, 2 KV heads of 16, 2 bytes: 512 bytes a token; 100 tokens take 7 blocks
    local d = rank({ batch_size = 1, seq_len = 1, kv_len = 111, phase = "decode" }).stages[1]
    assert.are.equal(512 * 112, d.kv_cache)
    assert.are.equal(180800 * 2, d.weights)
  end)

  it("finds the largest batch and the longest context that fit", function ()
    local plan = serving.plan(ctx, { context = 100, batch = 4 })
    assert.are.equal(usable, plan.usable_bytes)
    local b = plan.max_batch
    assert(b and need(b, 100) <= usable and need(b + 1, 100) > usable, "max_batch " .. tostring(b))
    local c = plan.max_context
    assert(c and need(4, c) <= usable and need(4, c + 1) > usable, "max_context " .. tostring(c))
    -- the times at the batch and context given
    assert.are.equal(4, plan.served_batch)
    assert(plan.tpot_s > 0 and plan.ttft_s > 0)
    assert(math.abs(plan.tokens_per_s - 4 / plan.tpot_s) < 1e-9)
  end)

  it("gives speculative decoding's expected tokens a step", function ()
    -- k = 3 drafted, each accepted with 0.5: (1 - 0.5^4) / (1 - 0.5) = 1.875 tokens a step
    local s = serving.speculative(0.010, 0.002, 3, 0.5)
    assert(math.abs(s.tokens_per_step - 1.875) < 1e-12)
    assert(math.abs(s.step_s - (3 * 0.002 + 0.010)) < 1e-15)
    assert(math.abs(s.s_per_token - 0.016 / 1.875) < 1e-15)
    assert.are.equal(4, serving.speculative(0.01, 0.001, 3, 1).tokens_per_step)
  end)

  it("runs from the command line", function ()
    local out, err, code = h.run("serve", "meta-llama/Llama-2-7b-hf", "--hw", "h100-sxm", "--context", "4096")
    assert.are.equal(0, code, err)
    -- weights 13,476,831,232 bytes (12.55 GiB); a sequence of 4,096 tokens holds 2 x 32 x 4096
    -- x 4096 x 2 = 2 GiB of KV cache; 72 GiB usable: (72 - 12.55 - a working set of 0.33 GiB,
    -- a 4,096-token prefill's lm_head: input 32 MiB, logits 250 MiB) / 2 -> 29
    assert.truthy(out:find("at most 29 sequences", 1, true), out)
    local _, err2, code2 = h.run("serve", "meta-llama/Llama-2-7b-hf", "--hw", "h100-sxm")
    assert.are.equal(2, code2)
    assert.truthy(err2:find("give --context N", 1, true), err2)
  end)
end)

describe("lmp plan", function ()
  local function hwfile(name, mib, price_note)
    return h.write(([[{"name": "%s", "memory_GiB": %s, "memory_GBps": 2039, "tensor_TFLOPS": {"bf16": 312},
      "kernel_floor_us": 2, "sources": {"memory_GiB": "-", "memory_GBps": "-", "tensor_TFLOPS": "-",
      "kernel_floor_us": "%s"}}]]):format(name, tostring(mib / 1024), price_note or "-"))
  end

  it("finds the one configuration that fits, and says why the others failed", function ()
    -- the small Llama's weights are 180,800 x 2 = 361,600 bytes: a part of 0.25 MiB (235,929
    -- bytes usable) cannot hold them on one GPU; one of 1 MiB can
    local small, big = hwfile("small-gpu", 0.25), hwfile("big-gpu", 1)
    local out, err, code = h.run("plan", TINY, "--context", "64", "--gpus", "1", "--hw", small, "--hw", big,
      "--price", "big-gpu=3", "--format", "json")
    assert.are.equal(0, code, err)
    local j = lmp.json_decode(out)
    assert.are.equal(2, j.evaluated)
    assert.are.equal(1, #j.best)
    assert.are.equal("big-gpu tp1 pp1 w16", j.best[1].name)
    assert.are.equal(1, j.failed["does not fit"])
    local b = j.best[1]
    -- $ a million tokens: 3 $/h x 1 GPU over the throughput
    assert(math.abs(b.usd_per_million_tokens - 3 / (b.tokens_per_s * 3600) * 1e6) < 1e-9)
    assert(math.abs(b.tokens_per_s - b.batch / b.tpot_s) < 1e-6)
    -- the batch is serve's largest at 64 tokens
    local plan = serving.plan({ parallel = function (inputs, timed)
      return lmp.parallel(TINY, inputs, {}, { hw = timed and lmp.hardware(big) or nil }) end,
      hw = lmp.hardware(big), gpus = 1, block = 16, max_positions = 512 }, { context = 64 })
    assert.are.equal(plan.max_batch, b.batch)
    -- a TPOT target below the batch-1 step leaves none
    out = h.run("plan", TINY, "--context", "64", "--gpus", "1", "--hw", big, "--max-tpot", "1e-9", "--format", "json")
    j = lmp.json_decode(out)
    assert.are.equal(0, #j.best)
    assert.are.equal(1, j.failed["time per output token over --max-tpot at batch 1"])
    os.remove(small)
    os.remove(big)
  end)

  it("ranks by the cost of a million tokens", function ()
    local out, err, code = h.run("plan", TINY, "--context", "64", "--gpus", "2", "--hw", "h100-sxm", "--hw", "a100-sxm-80gb",
      "--price", "h100-sxm=2.5", "--price", "a100-sxm-80gb=1.5", "--format", "json")
    assert.are.equal(0, code, err)
    local best = lmp.json_decode(out).best
    assert(#best >= 2)
    for i = 2, #best do assert(best[i - 1].usd_per_million_tokens <= best[i].usd_per_million_tokens) end
  end)
end)
