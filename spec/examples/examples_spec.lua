-- The example scripts, run as a user runs them (`lmp examples/x.lua args` through io.popen
-- of the host binary, LMP_EXE or lmp.executable), their output checked against figures
-- derived by hand below from the model shapes and the calculators' cost table
-- (docs/calculators.md): add/mul/mask/scale/relu 1, SiLU 4, softmax 5, RMSNorm 3 + 1 for the
-- weight, rotary 3, embedding 0 per element; a Linear 2*N*in*out; attention 4*H*q*k*d.
local h = require "spec.helpers"

local function run(...)
  local out, err, code = h.run(...)
  assert.are.equal(0, code, "exit status; stderr: " .. err)
  assert.are.equal("", err)
  return out
end

-- the text with every run of spaces squeezed to one, to match aligned tables
local function squeeze(s) return (s:gsub(" +", " ")) end

local function has(text, line) assert.is_truthy(squeeze(text):find(line, 1, true), "missing: " .. line .. "\nin:\n" .. text) end

--[[ Per-layer FLOPs at seq S, batch 1, prefill (key_len = S).
  Llama-2-7B: h 4096, 32 heads of 128 (32 KV heads), MLP 11008, 32 layers, vocab 32000.
    self_attn: q,k,v,o 4 * 2*S*4096^2 = 134,217,728 S
               rotary 3 * S*128*(32 + 32) = 24,576 S
               sdpa QK^T + PV 4*32*S*S*128 = 16,384 S^2; per score scale 1 + softmax 5 + mask 1
               = 7 * 32*S^2 = 224 S^2
               attention = 134,242,304 S + 16,608 S^2
    mlp:       gate, up, down 3 * 2*S*4096*11008 = 270,532,608 S; SiLU 4*11008 S = 44,032 S;
               mul 11,008 S;  mlp = 270,587,648 S
    the rest of a layer: 2 RMSNorms 2*4*4096 S = 32,768 S, 2 residual adds 8,192 S
    layer = 404,870,912 S + 16,608 S^2; x32 = 12,955,869,184 S + 531,456 S^2
    model: + final norm 16,384 S + lm_head 2*4096*32000 S = 262,144,000 S (embedding 0)
           + rotary_emb (inv_freq @ position_ids 128 S; cos, sin, 2 scalings 4*128 S) 640 S
           = 13,218,030,208 S + 531,456 S^2
  Mistral-7B: as Llama but 8 KV heads and MLP 14336.
    self_attn: q,o 2 * 2*S*4096^2 = 67,108,864 S; k,v 2 * 2*S*4096*1024 = 16,777,216 S;
               rotary 3*S*128*(32 + 8) = 15,360 S; sdpa 16,608 S^2 (32 query heads, as Llama)
               attention = 83,901,440 S + 16,608 S^2
    mlp:       6*4096*14336 S = 352,321,536 S + SiLU 57,344 S + mul 14,336 S = 352,393,216 S
    layer = 83,901,440 + 352,393,216 + 40,960 = 436,335,616 S + 16,608 S^2
    model = 32 * 436,335,616 S + 16,384 S + 262,144,000 S + 640 S + 531,456 S^2
          = 14,224,900,736 S + 531,456 S^2
  Decode of one token over K cached: the same with S = 1 and key_len K + 1:
    Llama 13,218,030,208 + 531,456 (K + 1); Mistral 14,224,900,736 + 531,456 (K + 1).
]]

describe("examples/compare_models.lua", function ()
  it("puts Llama-2-7B and Mistral-7B side by side", function ()
    local out = run("examples/compare_models.lua")
    has(out, "meta-llama/Llama-2-7b-hf mistralai/Mistral-7B-v0.1")
    -- Llama: per layer 4*4096^2 + 3*4096*11008 + 2*4096 = 202,383,360; x32 = 6,476,267,520;
    --   + embedding 131,072,000 + norm 4,096 + lm_head 131,072,000 = 6,738,415,616
    -- Mistral: per layer 2*4096^2 + 2*4096*1024 + 3*4096*14336 + 2*4096 = 218,112,000; x32
    --   = 6,979,584,000; + 131,072,000 + 4,096 + 131,072,000 = 7,241,732,096
    has(out, "parameters 6,738,415,616 7,241,732,096")
    -- per token at S = 2048: 13,218,030,208 + 531,456*2048 = 14,306,452,096;
    --   14,224,900,736 + 1,088,421,888 = 15,313,322,624
    has(out, "prefill FLOPs/token (seq 2048) 14,306,452,096 15,313,322,624")
    -- matmuls: 2*S*(Linear weights) + 32 layers * 16,384*S^2 (= 2,199,023,255,552 at 2048)
    --   + rotary_emb 128*S (262,144)
    --   Llama: 2*2048*6,607,077,376 = 27,062,588,932,096; total 29,261,612,449,792 of
    --     2048*14,306,452,096 = 29,299,613,892,608 FLOPs: 99.870 %
    --   Mistral: 2*2048*7,110,393,856 = 29,124,173,234,176; total 31,323,196,751,872 of
    --     2048*15,313,322,624 = 31,361,684,733,952 FLOPs: 99.877 %
    --   (Linear weights: 32 * (4*4096^2 + 3*4096*11008) + 4096*32000 = 6,607,077,376 and
    --    32 * (2*4096^2 + 2*4096*1024 + 3*4096*14336) + 4096*32000 = 7,110,393,856)
    has(out, "matmul share 99.870 % 99.877 %")
    -- 2 bytes a parameter
    has(out, "weights, 16-bit (bytes) 13,476,831,232 14,483,464,192")
    -- K and V: 2 * 32 layers * KV heads * 128 * 2 bytes: 32 heads 524,288; 8 heads 131,072
    has(out, "KV cache per token (bytes) 524,288 131,072")
    -- one token over 2048 cached (2049 keys): 13,218,030,208 + 531,456*2049 = 14,306,983,552;
    --   14,224,900,736 + 1,088,953,344 = 15,313,854,080
    has(out, "decode FLOPs/token (2048 cached) 14,306,983,552 15,313,854,080")
  end)

  it("takes other models, config.json files included", function ()
    -- Gemma-2B: 18 layers, 1 KV head of 256 (multi-query): 2*18*1*256*2 = 18,432 bytes a token
    local out = run("examples/compare_models.lua", "models/gpt2.json",
                    h.CONFIGS .. "google--gemma-2b.json", "1024")
    has(out, "openai-community/gpt2 google--gemma-2b")
    -- GPT-2: 12 layers, 12 heads of 64: 2*12*12*64*2 = 36,864
    has(out, "KV cache per token (bytes) 36,864 18,432")
  end)
end)

describe("examples/attention_vs_mlp.lua", function ()
  it("finds where Llama-2-7B's attention overtakes its MLP", function ()
    local out = run("examples/attention_vs_mlp.lua")
    -- S = 2048: attention 134,242,304*2048 + 16,608*2048^2 = 274,928,238,592 + 69,659,000,832
    --   = 344,587,239,424; MLP 270,587,648*2048 = 554,163,503,104
    has(out, " 2048 344,587,239,424 554,163,503,104 0.622")
    -- S = 16384: 2,199,425,908,736 + 4,458,176,053,248 = 6,657,601,961,984 against 4,433,308,024,832
    has(out, " 16384 6,657,601,961,984 4,433,308,024,832 1.502")
    -- attention > MLP  <=>  16,608 S^2 > (270,587,648 - 134,242,304) S = 136,345,344 S
    --   <=>  S > 136,345,344 / 16,608 = 8209.62...: the first integer is 8210, where
    --   attention = 134,242,304*8210 + 16,608*8210^2 = 1,102,129,315,840 + 1,119,447,292,800
    --             = 2,221,576,608,640 and MLP = 270,587,648*8210 = 2,221,524,590,080
    has(out, "flops seq_len 8210 attention 2,221,576,608,640 > MLP 2,221,524,590,080\n")
    -- matmuls only: 16,384 S^2 > (270,532,608 - 134,217,728) S = 136,314,880 S  <=>  S > 8320
    --   exactly (16,384 * 8320 = 136,314,880): equal at 8320, over from 8321, where
    --   134,217,728*8321 + 16,384*8321^2 = 1,116,825,714,688 + 1,134,412,447,744
    --   = 2,251,238,162,432 against 270,532,608*8321 = 2,251,101,831,168
    has(out, "matmul_flops seq_len 8321 attention 2,251,238,162,432 > MLP 2,251,101,831,168 (equal at 8320)")
  end)
end)

describe("examples/kv_cache_grid.lua", function ()
  it("prints Mistral-7B's KV cache over batch and context, and the multi-head equivalent", function ()
    local out = run("examples/kv_cache_grid.lua")
    local grids = {}
    for block in (out .. "\n"):gmatch("(.-)\n\n") do grids[#grids + 1] = squeeze(block) end
    assert.are.equal(4, #grids) -- three grids and the per-token line
    -- one token: 2 (K, V) * 32 layers * 8 KV heads * 128 * 2 bytes = 131,072 = 2^17 bytes, so
    -- b sequences of L tokens hold b*min(L, 4096)*2^17 bytes = b*min(L, 4096)/8192 GiB at 16 bits
    -- (the sliding window keeps the last 4096 tokens), half at 8 bits, four times as much with 32 KV heads
    assert.matches("KV at 16 bits", grids[1])
    has(grids[1], "\n 1 0.250 0.500 0.500 0.500\n")          -- 2048/8192, 4096/8192, then capped
    has(grids[1], "\n 128 32.000 64.000 64.000 64.000")       -- 128*2048/8192 = 32, ...
    assert.matches("KV at 8 bits", grids[2])
    has(grids[2], "\n 1 0.125 0.250 0.250 0.250\n")
    has(grids[2], "\n 8 1.000 2.000 2.000 2.000\n")
    assert.matches("multi%-head attention, KV at 16 bits", grids[3])
    has(grids[3], "\n 128 128.000 256.000 256.000 256.000")
    has(out, "per token at 16 bits: 131072 bytes with GQA, 524288 with multi-head attention: 4x less")
  end)
end)

describe("examples/arithmetic_intensity.lua", function ()
  it("ranks Llama-2-7B's layers in decode by FLOPs per byte", function ()
    local out = run("examples/arithmetic_intensity.lua")
    -- one token over 4095 cached (4096 keys): 13,218,030,208 + 531,456*4096 = 15,394,873,984 FLOPs
    -- bytes read + written, per layer: 2 RMSNorms (x 8,192 + weight 8,192 in, 8,192 out)
    --   2*24,576; 2 adds (2*8,192 in, 8,192 out) 2*24,576; q,k,v,o 4*(8,192 + 33,554,432 + 8,192)
    --   = 134,283,264; rotary q,k 16,384 + cos,sin 512 in, 16,384 out = 33,280; attention
    --   q 8,192 + K,V 2*32*4096*128*2 = 67,108,864 in, 8,192 out = 67,125,248; gate, up, down
    --   3*(90,177,536 + 8,192 + 22,016) = 270,623,232; SiLU 44,032; mul 66,048
    --   KV-cache write: the new token's K and V read (2*32*128*2 = 16,384) and written (16,384)
    --   layer 472,306,176; x32 = 15,113,797,632; + embedding 16,392 + norm 24,576
    --   + lm_head 8,192 + 262,144,000 + 64,000 + rotary_emb (inv_freq 64*4 + position 8 in, cos and sin
    --   2*128*2 out) 776 = 15,376,055,568; fused attention (sdpa, the default) also writes one
    --   fp32 log-sum-exp a head: 32 layers * 32 heads * 4 = 4,096: 15,376,059,664
    has(out, "whole model: 15,394,873,984 FLOPs, 15,376,059,664 bytes read + written: 1.001 FLOP/byte")
    local rows = {}
    for line in out:gmatch("[^\n]+") do
      if line:match("^model") or line:match("^lm_head") then rows[#rows + 1] = squeeze(line) end
    end
    assert.are.equal(10, #rows)
    -- the embedding gathers with no arithmetic: 8 (int64 index) + 8,192 in, 8,192 out
    assert.are.equal("model.embed_tokens Embedding 0 16,392 0.0000", rows[1])
    -- the KV-cache write moves the new token's K and V (16,384 in, 16,384 out) with no arithmetic
    assert.are.equal("model.layers.self_attn.past_key_value StaticCache 0 32,768 0.0000", rows[2])
    -- residual adds 4,096 FLOPs over 2*8,192 in + 8,192 out, the SwiGLU mul 11,008 over
    -- 3*22,016: 1/6 each, in tree order
    assert.are.equal("model.layers.residual_add_attn add 4,096 24,576 0.1667", rows[3])
    assert.are.equal("model.layers.mlp.mul mul 11,008 66,048 0.1667", rows[4])
    assert.are.equal("model.layers.residual_add_mlp add 4,096 24,576 0.1667", rows[5])
    -- RMSNorm: 4*4,096 = 16,384 FLOPs over 24,576 bytes = 2/3
    assert.are.equal("model.layers.input_layernorm LlamaRMSNorm 16,384 24,576 0.6667", rows[6])
    assert.are.equal("model.norm LlamaRMSNorm 16,384 24,576 0.6667", rows[8])
    -- rotary: 3*128*(32 + 32) = 24,576 FLOPs over 33,280 bytes = 0.73846
    assert.are.equal("model.layers.self_attn.apply_rotary_pos_emb apply_rotary_pos_emb 24,576 33,280 0.7385", rows[9])
    -- rotary_emb: 128 + 4*128 = 640 FLOPs over 776 bytes = 0.82474
    assert.are.equal("model.rotary_emb LlamaRotaryEmbedding 640 776 0.8247", rows[10])
  end)
end)

describe("examples/custom_module.lua", function ()
  it("registers an inline calculator and analyses a model that uses it", function ()
    local out = run("examples/custom_module.lua")
    -- N = 4*128 = 512 tokens. up: 2*512*512*2048 = 1,073,741,824 + bias 512*2048 = 1,048,576;
    -- squared ReLU 2*512*2048 = 2,097,152; down 1,073,741,824 + bias 512*512 = 262,144
    -- params: 512*2048 + 2048 = 1,050,624 and 2048*512 + 512 = 1,049,088
    -- bytes: up reads 512*512*2 + 1,050,624*2 = 2,625,536, writes 512*2048*2 = 2,097,152;
    --   act 2,097,152 each way; down reads 2,097,152 + 1,049,088*2, writes 524,288
    has(out, "example/squared-relu-ffn, batch 4, seq 128: every layer priced")
    has(out, "\nffn FeedForward 2,150,891,520 2,147,483,648 2,099,712 13,636,608\n")
    has(out, "\nffn.up Linear 1,074,790,400 1,073,741,824 1,050,624 4,722,688\n")
    has(out, "\nffn.act SquaredReLU 2,097,152 0 0 4,194,304\n")
    has(out, "\nffn.down Linear 1,074,003,968 1,073,741,824 1,049,088 4,719,616\n")
    -- backward: each Linear 4*N*in*out + N*out (2,147,483,648 + 1,048,576 and + 262,144),
    -- squared ReLU 2 an element (2,097,152): 4,298,375,168; with the forward 6,449,266,688
    has(out, "training step: 6,449,266,688 FLOPs, of which backward 4,298,375,168")
  end)
end)

describe("examples/export_csv.lua", function ()
  local file = os.tmpname()
  after_each(function () os.remove(file) end)

  local function rows()
    local out = {}
    for line in io.lines(file) do out[#out + 1] = line end
    return out
  end

  it("writes one row per basic layer of Llama-2-7B, exact integers", function ()
    local out = run("examples/export_csv.lua", file)
    -- 20 rows: embedding, 16 basic layers in a decoder layer (2 norms, q k v, rotary, KV-cache
    -- write, attention, o, 2 adds, gate, SiLU, up, mul, down), final norm, rotary_emb, lm_head (a
    -- count of the model file's layers, a smoke check)
    has(out, "wrote 20 layers to " .. file)
    -- the totals derived above at S = 2048: 13,218,030,208*2048 + 531,456*2048^2; params as above
    has(out, "SUMPRODUCT(runs, flops) = 29299613892608 = totals.flops")
    has(out, "SUMPRODUCT(instances, params) = 6738415616 = totals.params")
    local csv = rows()
    assert.are.equal(21, #csv) -- the header and 20 layers
    assert.are.equal("path,class,instances,runs,flops,matmul_flops,params,reads_bytes,writes_bytes,"
      .. "intermediates_bytes,weight_bytes,state_bytes", csv[1])
    -- q_proj over 2048 tokens: 2*2048*4096^2 = 68,719,476,736 FLOPs; 4096^2 = 16,777,216
    -- weights; reads 2048*4096*2 = 16,777,216 + weights 33,554,432, writes 16,777,216
    assert.are.equal("model.layers.self_attn.q_proj,torch.nn.modules.linear.Linear,32,32,68719476736,"
      .. "68719476736,16777216,50331648,16777216,0,33554432,0", csv[4])
  end)

  it("counts every expert for parameters and the active ones for FLOPs (Mixtral)", function ()
    local out = run("examples/export_csv.lua", file, "models/mixtral-8x7b-v0.1.json", "16")
    -- Mixtral-8x7B per layer: q,o 2*4096^2 = 33,554,432; k,v 2*4096*1024 = 8,388,608; router
    -- 4096*8 = 32,768; experts 8*3*4096*14336 = 1,409,286,144; 2 norms 8,192: 1,451,270,144;
    -- x32 = 46,440,644,608 + embedding 131,072,000 + norm 4,096 + lm_head 131,072,000
    has(out, "SUMPRODUCT(instances, params) = 46702792704 = totals.params")
    -- w1 of one expert: 32 layers * 8 experts instances, 32 * 2 active runs; over all 16
    -- tokens 2*16*4096*14336 = 1,879,048,192 FLOPs, 4096*14336 = 58,720,256 weights
    local w1
    for _, line in ipairs(rows()) do
      if line:match("^model%.layers%.block_sparse_moe%.experts%.w1,") then w1 = line end
    end
    assert.matches("^[^,]+,torch.nn.modules.linear.Linear,256,64,1879048192,1879048192,58720256,", w1)
  end)

  it("says how to use it when the output file is missing", function ()
    local _, err, code = h.run("examples/export_csv.lua")
    assert.are.equal(2, code)
    assert.matches("^usage: ", err)
  end)
end)

-- Every ```lua snippet of the Lua API guide that is followed by a ```text block prints that
-- text (run as a script from the repository root; "(script)" stands for the script's path).
describe("docs/lua-api.md", function ()
  -- the fenced blocks in order: { lang, body }
  local blocks, lines, open = {}, {}, nil
  for line in io.lines("docs/lua-api.md") do
    local fence = line:match("^```(%w*)$")
    if fence and not open then open, lines = fence, {}
    elseif fence == "" and open then blocks[#blocks + 1] = { lang = open, body = table.concat(lines, "\n") .. "\n" }; open = nil
    elseif open then lines[#lines + 1] = line end
  end
  local n = 0
  for i = 1, #blocks - 1 do
    local code, expected = blocks[i], blocks[i + 1]
    if code.lang == "lua" and expected.lang == "text" then
      n = n + 1
      it(("snippet %d (%s) prints what the guide shows"):format(n, code.body:match("^[^\n]*")), function ()
        local path = h.write(code.body, ".lua")
        local out, err, status = h.run(path)
        os.remove(path)
        assert.are.equal(0, status, err)
        assert.are.equal(expected.body, (out:gsub(path:gsub("%p", "%%%0"), "(script)")))
      end)
    end
  end
  it("has snippets to check", function () assert.is_true(n >= 30, n) end)
end)
