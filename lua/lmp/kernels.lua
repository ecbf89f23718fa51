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

return kernels
