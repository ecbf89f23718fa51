-- The calculators lmp export-torch needs for torchvision's models and for the compute a module's
-- own forward does: BatchNorm2d, MaxPool2d, AdaptiveAvgPool2d, MultiheadAttention, torch.matmul,
-- torch.sub, torch.neg, torch.cos, torch.sin. Every expected value worked out by hand below.
local lmp = require "lmp"

describe("torch.nn.modules.batchnorm.BatchNorm2d", function ()
  local NAME = "torch.nn.modules.batchnorm.BatchNorm2d"
  it("counts ResNet-50's bn1 at inference: 2 FLOPs an element, +2 with the affine weight and bias", function ()
    -- 64 channels of 112 x 112, batch 1: N = 12,544 positions, 802,816 elements
    local p = { N = 12544, num_features = 64 }
    assert.are.equal(802816 * 4, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, p))
    -- weight and bias, 64 each; the running mean and variance are buffers
    assert.are.equal(128, lmp.compute_params(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    -- input 802,816 * 2 B = 1,605,632 + weights 128 * 2 B = 256
    assert.are.equal(1605632 + 256, m.reads)
    assert.are.equal(1605632, m.writes)
    -- backward: 8 (statistics) + 2 (dW) + 1 (db) = 11 an element
    assert.are.same({ flops = 802816 * 11, matmul_flops = 0 }, lmp.compute_backward(NAME, p))
  end)
  it("without affine: 2 FLOPs an element, no parameters", function ()
    local p = { N = 49, num_features = 2048, affine = false }
    assert.are.equal(49 * 2048 * 2, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
  end)
end)

describe("torch.nn.modules.pooling.MaxPool2d", function ()
  local NAME = "torch.nn.modules.pooling.MaxPool2d"
  local stem = { batch_size = 1, channels = 64, height = 112, width = 112, kernel_h = 3, kernel_w = 3,
                 stride_h = 2, stride_w = 2, padding_h = 1, padding_w = 1 }
  it("counts ResNet-50's maxpool: 8 comparisons an output", function ()
    -- H_out = (112 + 2 - 2 - 1) // 2 + 1 = 56; 64 * 56 * 56 = 200,704 outputs, each the max of 9: 8 comparisons
    assert.are.equal(200704 * 8, lmp.compute_flops(NAME, stem))
    assert.are.equal(0, lmp.compute_params(NAME, stem))
    local m = lmp.compute_memory(NAME, stem)
    assert.are.equal(64 * 112 * 112 * 2, m.reads)
    assert.are.equal(200704 * 2, m.writes)
    assert.are.same({ flops = 200704, matmul_flops = 0 }, lmp.compute_backward(NAME, stem))
  end)
  it("refuses ceil_mode rather than guess", function ()
    stem.ceil_mode = true
    assert.error_matches(function () lmp.compute_flops(NAME, stem) end, "ceil_mode")
  end)
end)

describe("torch.nn.modules.pooling.AdaptiveAvgPool2d", function ()
  local NAME = "torch.nn.modules.pooling.AdaptiveAvgPool2d"
  it("global pooling of ResNet-50's 2048 x 7 x 7: 49 adds and 1 divide a plane", function ()
    local p = { batch_size = 2, channels = 2048, height = 7, width = 7, output_size_h = 1, output_size_w = 1 }
    assert.are.equal(2 * 2048 * 50, lmp.compute_flops(NAME, p))
    assert.are.equal(2 * 2048 * 7 * 7 * 2, lmp.compute_memory(NAME, p).reads)
    assert.are.equal(2 * 2048 * 2, lmp.compute_memory(NAME, p).writes)
  end)
  it("refuses overlapping bins", function ()
    assert.error_matches(function ()
      lmp.compute_flops(NAME, { batch_size = 1, channels = 1, height = 7, width = 7, output_size_h = 3, output_size_w = 3 })
    end, "overlaps")
  end)
end)

describe("torch.nn.modules.activation.MultiheadAttention", function ()
  local NAME = "torch.nn.modules.activation.MultiheadAttention"
  local vit = { batch_size = 1, q_len = 197, key_len = 197, embed_dim = 768, num_heads = 12, kdim = 768, vdim = 768 }
  it("counts ViT-B/16's self-attention as F.multi_head_attention_forward's addmm and bmm", function ()
    -- q, k, v, out projections 4 * 2*197*768*768 = 929,562,624; Q K^T and probs V 2 * 2*197*197*768 = 4 * 38,809 * 768 = 119,221,248
    assert.are.equal(929562624 + 119221248, lmp.compute_matmul_flops(NAME, vit))
    -- in_proj 3*768*768 + 3*768 and out_proj 768*768 + 768: 2,362,368 = 4 * 768 * 769
    assert.are.equal(2362368, lmp.compute_params(NAME, vit))
    -- + q scaling 197*768 = 151,296; softmax 5 * 12*197*197 = 2,328,540; biases 2*197*768 + 2*197*768 = 605,184
    assert.are.equal(929562624 + 119221248 + 151296 + 2328540 + 605184, lmp.compute_flops(NAME, vit))
  end)
  it("cross-attention with other key and value widths, bias_k/bias_v and a zero position", function ()
    local p = { batch_size = 3, q_len = 5, key_len = 7, embed_dim = 8, num_heads = 2, kdim = 6, vdim = 4,
                bias = false, add_bias_kv = true, add_zero_attn = true }
    -- q 2*15*8*8 = 1,920; k 2*21*6*8 = 2,016; v 2*21*4*8 = 1,344; S = 7 + 1 + 1 = 9:
    -- scores and probs V 2 * 2*15*9*8 = 4,320; out 2*15*8*8 = 1,920
    assert.are.equal(1920 + 2016 + 1344 + 4320 + 1920, lmp.compute_matmul_flops(NAME, p))
    -- in-projection 8*(8 + 6 + 4) = 144, out 64, bias_k and bias_v 16
    assert.are.equal(224, lmp.compute_params(NAME, p))
  end)
end)

describe("torch.matmul", function ()
  it("2 FLOPs a multiply-add over batch products; no parameters", function ()
    -- 12 heads of ViT's scores: 12 * 197 x 64 @ 64 x 197: 2*12*197*64*197 = 1,536 * 38,809 = 59,610,624
    local p = { batch = 12, m = 197, k = 64, n = 197 }
    assert.are.equal(59610624, lmp.compute_matmul_flops("torch.matmul", p))
    assert.are.equal(0, lmp.compute_params("torch.matmul", p))
    local m = lmp.compute_memory("torch.matmul", p)
    -- reads 12*197*64*2 twice = 605,184; writes 12*197*197*2 = 931,416
    assert.are.equal(605184, m.reads)
    assert.are.equal(931416, m.writes)
    assert.are.same({ flops = 2 * 59610624, matmul_flops = 2 * 59610624 }, lmp.compute_backward("torch.matmul", p))
  end)
end)

describe("elementwise: torch.sub, torch.neg, torch.cos, torch.sin", function ()
  it("1 FLOP an element each", function ()
    for _, name in ipairs({ "torch.sub", "torch.neg", "torch.cos", "torch.sin" }) do
      assert.are.equal(1000, lmp.compute_flops(name, { numel = 1000 }))
      assert.are.equal(0, lmp.compute_params(name, { numel = 1000 }))
    end
    -- a - b with b broadcast from 10 values: reads 1000*2 + 10*2 B
    assert.are.equal(2020, lmp.compute_memory("torch.sub", { numel = 1000, broadcast_numel = 10 }).reads)
    -- backward: sin' = cos times g, 2 an element; -x: 1
    assert.are.same({ flops = 2000, matmul_flops = 0 }, lmp.compute_backward("torch.sin", { numel = 1000 }))
    assert.are.same({ flops = 1000, matmul_flops = 0 }, lmp.compute_backward("torch.neg", { numel = 1000 }))
  end)
end)
