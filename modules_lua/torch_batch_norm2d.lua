-- torch.nn.modules.batchnorm.BatchNorm2d at inference: y = (x - running_mean) * rstd [* weight + bias]
-- per channel, over N = batch * height * width positions of num_features channels; rstd is one value a
-- channel (not counted). COST.batchnorm (subtract, multiply) +1 with the weight, +1 with the bias;
-- parameters weight and bias (affine), 2 * num_features; the running statistics are buffers, not
-- parameters (torch's p.numel() leaves them out). Backward: BACKWARD_COST.batchnorm (the batch
-- statistics' gradient, as layernorm's) + the weight and bias gradients.
return kernels.norm_calculator {
  full_class_name = "torch.nn.modules.batchnorm.BatchNorm2d",
  cost = kernels.COST.batchnorm,
  backward_cost = kernels.BACKWARD_COST.batchnorm,

  required_parameters = function ()
    return { N = "int", num_features = "posint", affine = { type = "bool", default = true },
             a_bits = "posint", w_bits = "posint" }
  end,

  rows = "N", width = "num_features", weight = "affine", bias = "affine",

  sample_parameters = function ()
    return {
      -- ResNet-50's bn1: 64 channels of a 112x112 map, batch 2
      { N = 2 * 112 * 112, num_features = 64, affine = true, a_bits = 16, w_bits = 16 },
      { N = 7 * 7, num_features = 2048, affine = false, a_bits = 8, w_bits = 4 },
    }
  end,
}
