-- Kernels written in Lua, added to the C kernels table (kernels.c) that calculators see as
-- `kernels`. Each sandbox gets its own copy of the table, so a calculator cannot change
-- what another one calls.
local core = require "lmp.core"

local kernels = core.kernels

-- elementwise_calculator { full_class_name = ..., cost = kernels.COST.x [, inputs = 1]
--                          [, backward_cost = kernels.BACKWARD_COST.x] [, broadcast = true] }
-- -> the whole calculator for an op over `numel` elements that reads `inputs` tensors of
-- that size and writes one, at `cost` FLOPs an element (activations, residual adds, ...);
-- with backward_cost, its backward pass costs that much per element.
function kernels.elementwise_calculator(spec)
  if type(spec) ~= "table" or type(spec.full_class_name) ~= "string" then
    error("elementwise_calculator: expected { full_class_name = ..., cost = ... }", 2)
  end
  local cost, inputs = spec.cost, spec.inputs or 1
  if math.type(cost) ~= "integer" or cost < 0 then error("elementwise_calculator: cost must be an integer >= 0", 2) end
  if math.type(inputs) ~= "integer" or inputs < 1 then error("elementwise_calculator: inputs must be an integer >= 1", 2) end
  -- broadcast: the second of two operands may be smaller (a mask, a bias, a scalar), given
  -- as the optional parameter broadcast_numel (0, the default: as large as the first)
  local broadcast = spec.broadcast and inputs == 2
  local backward_cost = spec.backward_cost
  if backward_cost ~= nil and (math.type(backward_cost) ~= "integer" or backward_cost < 0) then
    error("elementwise_calculator: backward_cost must be an integer >= 0", 2)
  end
  return {
    full_class_name = spec.full_class_name,
    required_parameters = function ()
      if broadcast then return { numel = "int", broadcast_numel = { type = "int", default = 0 }, a_bits = "posint" } end
      return { numel = "int", a_bits = "posint" }
    end,
    params = function () return 0 end,
    matmul_flops = function () return 0 end,
    flops = function (p) return kernels.elementwise(p.numel, cost) end,
    memory = function (p)
      local one = kernels.bytes(p.numel, p.a_bits)  -- each tensor rounded to whole bytes
      if broadcast and p.broadcast_numel > 0 then
        return { reads = kernels.add(one, kernels.bytes(p.broadcast_numel, p.a_bits)), writes = one, intermediates = 0 }
      end
      return { reads = kernels.mul(inputs, one), writes = one, intermediates = 0 }
    end,
    backward = backward_cost and function (p)
      return { flops = kernels.elementwise(p.numel, backward_cost), matmul_flops = 0 }
    end or nil,
  }
end

-- the fields a factory copies from its spec to the calculator as they are
local function calculator_of(spec, fields)
  local calc = { full_class_name = spec.full_class_name, required_parameters = spec.required_parameters,
                 sample_parameters = spec.sample_parameters }
  for k, v in pairs(fields) do calc[k] = v end
  return calc
end

-- A factory's spec names the parameters that hold each size ("N", "in_features"); check_spec
-- checks that it does. An option (a weight, a bias) is true, false/nil, or the name of the
-- bool parameter that says; option(factory, spec, name) -> its value when fixed (nil when a
-- parameter holds it), that parameter. The figure functions read each size and option
-- once: they run under the sandbox's instruction hook, where a Lua instruction costs
-- several times its usual time.
local function check_spec(factory, spec, sizes)
  if type(spec) ~= "table" or type(spec.full_class_name) ~= "string" or type(spec.required_parameters) ~= "function" then
    error(factory .. ": expected { full_class_name = ..., required_parameters = function, ... }", 3)
  end
  for _, size in ipairs(sizes) do
    if type(spec[size]) ~= "string" then
      error(("%s: %s must name the parameter that holds it"):format(factory, size), 3)
    end
  end
end

local function option(factory, spec, name)
  local v = spec[name]
  if type(v) == "string" then return nil, v end
  if v ~= nil and type(v) ~= "boolean" then
    error(("%s: %s must be true, false or the name of a bool parameter"):format(factory, name), 3)
  end
  return v == true, nil
end

-- norm_calculator { full_class_name = ..., required_parameters = ..., rows = "N", width = "d",
--                   cost = kernels.COST.x, backward_cost = kernels.BACKWARD_COST.x
--                   [, weight = option] [, bias = option] [, unit_offset = true] [, sample_parameters = ...] }
-- -> the whole calculator for a normalisation over `rows` rows of `width` values: `cost`
-- FLOPs an element, +1 (mul) with a weight, +1 (add) with a bias; unit_offset: the weight
-- is applied as (1 + weight), `width` adds a call (Gemma). Weight and bias (only beside a
-- weight) are `width` parameters each, read at w_bits when the layer has rows.
function kernels.norm_calculator(spec)
  check_spec("norm_calculator", spec, { "rows", "width" })
  local cost, backward_cost = spec.cost, spec.backward_cost
  for name, v in pairs { cost = cost, backward_cost = backward_cost } do
    if math.type(v) ~= "integer" or v < 0 then error("norm_calculator: " .. name .. " must be an integer >= 0", 2) end
  end
  local rows, width, unit_offset = spec.rows, spec.width, spec.unit_offset
  local fixed_weight, weight_param = option("norm_calculator", spec, "weight")
  local fixed_bias, bias_param = option("norm_calculator", spec, "bias")
  local mul, add = kernels.COST.mul, kernels.COST.add
  -- parts(p) -> with a weight, with a bias (only beside a weight)
  local function parts(p)
    local w, b = fixed_weight, fixed_bias
    if w == nil then w = p[weight_param] end
    if b == nil then b = p[bias_param] end
    return w, w and b
  end
  if fixed_weight ~= nil and fixed_bias ~= nil then -- the same for every call: read nothing
    local w, b = parts()
    parts = function () return w, b end
  end
  local function weights(d, w, b) return b and kernels.add(d, d) or w and d or 0 end
  return calculator_of(spec, {
    params = function (p) return weights(p[width], parts(p)) end,
    matmul_flops = function () return 0 end,
    flops = function (p)
      local d, w, b = p[width], parts(p)
      local flops = kernels.elementwise(kernels.mul(p[rows], d), cost + (w and mul + (b and add or 0) or 0))
      if unit_offset then flops = kernels.add(flops, kernels.elementwise(d, add)) end
      return flops
    end,
    memory = function (p)
      local n, d = p[rows], p[width]
      local x = kernels.mul(n, d)
      -- no rows: the builders' N = 0 says this layer does not run in this step, so it reads no weights
      local w = n > 0 and kernels.bytes(weights(d, parts(p)), p.w_bits) or 0
      return { reads = kernels.add(kernels.bytes(x, p.a_bits), w), writes = kernels.bytes(x, p.a_bits),
               intermediates = 0, weights = w }
    end,
    -- backward_cost is the input gradient through dxhat = g*w; without a weight dxhat = g and
    -- that multiply goes (-1); dW = sum over rows of g*xhat (+2), db = sum over rows of g (+1)
    backward = function (p)
      local w, b = parts(p)
      local per = w and backward_cost + 2 + (b and 1 or 0) or backward_cost - mul
      return { flops = kernels.elementwise(kernels.mul(p[rows], p[width]), per), matmul_flops = 0 }
    end,
  })
end

-- gemm_calculator { full_class_name = ..., required_parameters = ..., rows = "N", inner = "in",
--                   cols = "out" [, bias = option] [, sample_parameters = ...] }
-- -> the whole calculator for a layer that is one matrix product (rows x inner) @ (inner x cols)
-- with a weight of inner x cols and, with a bias, cols more: it reads rows * inner activations
-- and writes rows * cols. Backward: dX and dW, a product of the same size each, and with a
-- bias db, the column sums of dY; each product reads dY (twice in all), dX = dY W reads the
-- weights, dW = dY^T X the saved input; they write dX and the weight (and bias) gradients.
function kernels.gemm_calculator(spec)
  check_spec("gemm_calculator", spec, { "rows", "inner", "cols" })
  local rows, inner, cols = spec.rows, spec.inner, spec.cols
  local fixed_bias, bias_param = option("gemm_calculator", spec, "bias")
  local function weights(k, n, b) return kernels.add(kernels.mul(k, n), b and n or 0) end
  return calculator_of(spec, {
    params = function (p)
      local b = fixed_bias
      if b == nil then b = p[bias_param] end
      return weights(p[inner], p[cols], b)
    end,
    matmul_flops = function (p)
      return kernels.matmul(p[rows], p[inner], p[cols])
    end,
    flops = function (p)
      local m, n, b = p[rows], p[cols], fixed_bias
      if b == nil then b = p[bias_param] end
      local bias_add = b and kernels.elementwise(kernels.mul(m, n), kernels.COST.add) or 0
      return kernels.add(kernels.matmul(m, p[inner], n), bias_add)
    end,
    memory = function (p)
      local m, k, n, b = p[rows], p[inner], p[cols], fixed_bias
      if b == nil then b = p[bias_param] end
      -- no rows: the builders' N = 0 says this layer does not run in this step, so it reads no weights
      local w = m > 0 and kernels.bytes(weights(k, n, b), p.w_bits) or 0
      return {
        reads = kernels.add(kernels.bytes(kernels.mul(m, k), p.a_bits), w),
        writes = kernels.bytes(kernels.mul(m, n), p.a_bits),
        intermediates = 0,
        weights = w,
      }
    end,
    backward = function (p)
      local m, k, n, b = p[rows], p[inner], p[cols], fixed_bias
      if b == nil then b = p[bias_param] end
      local products = kernels.add(kernels.matmul(m, n, k), kernels.matmul(n, m, k))
      local bias_grad = b and kernels.elementwise(kernels.mul(m, n), kernels.BACKWARD_COST.add) or 0
      local w = m > 0 and kernels.bytes(weights(k, n, b), p.w_bits) or 0
      local dy, x = kernels.bytes(kernels.mul(m, n), p.a_bits), kernels.bytes(kernels.mul(m, k), p.a_bits)
      return { flops = kernels.add(products, bias_grad), matmul_flops = products,
               reads = kernels.add(kernels.mul(2, dy), x, w), writes = kernels.add(x, w) }
    end,
  })
end

-- conv_calculator { full_class_name = ..., required_parameters = ..., geometry = function (p) ... end,
--                   input = function (p) ... end [, sample_parameters = ...] }
-- -> the whole calculator for a convolution of batch_size inputs into out_channels channels
-- in `groups` groups (with bias: the parameter `bias`), where geometry(p) -> positions,
-- fan_in: the output positions of one channel and the inputs each output sums
-- (in_channels/groups x kernel), and input(p): the elements it reads. Priced as the product
-- over the im2col shapes (batch_size*positions rows, fan_in, out_channels columns), as
-- FlopCounterMode counts convolution and convolution_backward; the image is read once, not
-- im2col's copies.
function kernels.conv_calculator(spec)
  check_spec("conv_calculator", spec, {})
  if type(spec.geometry) ~= "function" or type(spec.input) ~= "function" then
    error("conv_calculator: geometry and input must be functions of the parameters", 2)
  end
  local input = spec.input
  local function geometry(p)
    if p.in_channels % p.groups ~= 0 or p.out_channels % p.groups ~= 0 then
      error(string.format("in_channels (%d) and out_channels (%d) must be divisible by groups (%d)",
                          p.in_channels, p.out_channels, p.groups), 0)
    end
    return spec.geometry(p)
  end
  local function weights(p, fan_in)
    return kernels.add(kernels.mul(p.out_channels, fan_in), p.bias and p.out_channels or 0)
  end
  return calculator_of(spec, {
    params = function (p)
      local _, fan_in = geometry(p)
      return weights(p, fan_in)
    end,
    matmul_flops = function (p)
      local positions, fan_in = geometry(p)
      return kernels.matmul(kernels.mul(p.batch_size, positions), fan_in, p.out_channels)
    end,
    flops = function (p)
      local positions, fan_in = geometry(p)
      local outputs = kernels.mul(p.batch_size, p.out_channels, positions)
      local bias_add = p.bias and kernels.elementwise(outputs, kernels.COST.add) or 0
      return kernels.add(kernels.matmul(kernels.mul(p.batch_size, positions), fan_in, p.out_channels), bias_add)
    end,
    memory = function (p)
      local positions, fan_in = geometry(p)
      -- no batch: the builders' batch_size = 0 says this layer does not run in this step, so it reads no weights
      local w = p.batch_size > 0 and kernels.bytes(weights(p, fan_in), p.w_bits) or 0
      return {
        reads = kernels.add(kernels.bytes(input(p), p.a_bits), w),
        writes = kernels.bytes(kernels.mul(p.batch_size, p.out_channels, positions), p.a_bits),
        intermediates = 0,
        weights = w,
      }
    end,
    -- dX, a transposed convolution, and dW = dY^T cols: one im2col-sized product each;
    -- db = the sums of dY over batch and positions. As a GEMM's: dY read by both, the weights
    -- by dX, the input by dW; dX and the weight gradients written
    backward = function (p)
      local positions, fan_in = geometry(p)
      local rows = kernels.mul(p.batch_size, positions)
      local products = kernels.mul(2, kernels.matmul(rows, fan_in, p.out_channels))
      local bias_grad = p.bias and kernels.elementwise(kernels.mul(rows, p.out_channels), kernels.BACKWARD_COST.add) or 0
      local w = p.batch_size > 0 and kernels.bytes(weights(p, fan_in), p.w_bits) or 0
      local dy = kernels.bytes(kernels.mul(p.batch_size, p.out_channels, positions), p.a_bits)
      local x = kernels.bytes(input(p), p.a_bits)
      return { flops = kernels.add(products, bias_grad), matmul_flops = products,
               reads = kernels.add(kernels.mul(2, dy), x, w), writes = kernels.add(x, w) }
    end,
  })
end

return kernels
