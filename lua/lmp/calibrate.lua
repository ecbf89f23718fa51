-- lmp calibrate: fits a hardware file's efficiencies (and kernel floor) to measured kernel
-- times, and says how well the fitted model predicts each measurement it did not see.
--
-- The measurements are a CSV (docs/hardware.md): class, parameters, measured_us[, label]:
-- the lmp calculator that prices the operation, its parameters as name=value;name=value,
-- and the measured time of one kernel in microseconds. The fit minimises the mean squared
-- log error (so 2x too fast and 2x too slow weigh the same) by coordinate search within
-- each efficiency's range; the leave-one-out error refits without each row in turn.
local core = require "lmp.core"
local hardware = require "lmp.hardware"
local roofline = require "lmp.roofline"
local util = require "lmp.util"

local calibrate = {}

-- one CSV field list, quotes as RFC 4180
local function split_csv(line)
  local fields, i, n = {}, 1, #line
  while i <= n + 1 do
    if line:sub(i, i) == '"' then
      local j, buf = i + 1, {}
      while true do
        local q = line:find('"', j, true)
        if not q then return nil end
        buf[#buf + 1] = line:sub(j, q - 1)
        if line:sub(q + 1, q + 1) == '"' then buf[#buf + 1] = '"' j = q + 2 else i = q + 1 break end
      end
      fields[#fields + 1] = table.concat(buf)
      if line:sub(i, i) == "," then i = i + 1 elseif i <= n then return nil else break end
    else
      local c = line:find(",", i, true)
      fields[#fields + 1] = line:sub(i, (c or n + 1) - 1)
      if not c then break end
      i = c + 1
    end
  end
  return fields
end

local function parse_value(s)
  if s == "true" then return true elseif s == "false" then return false end
  return math.tointeger(tonumber(s)) or tonumber(s) or s
end

-- read(path) -> rows { class, parameters, measured_s, label, line }; a bad line is a one-line
-- error naming the file and the line
calibrate.MAX_ROWS = 100000
function calibrate.read(path)
  local text = core.read_file(path)
  local rows, header, lineno = {}, nil, 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    line = line:gsub("\r$", "")
    if line ~= "" then
      local f = split_csv(line)
      local function bad(what) util.fail(("%s:%d: %s"):format(path, lineno, what)) end
      if not f then bad("unbalanced quotes") end
      if not header then
        header = {}
        for k, name in ipairs(f) do header[name] = k end
        for _, need in ipairs({ "class", "parameters", "measured_us" }) do
          if not header[need] then bad(("the header must name the columns class, parameters and measured_us (no %s)"):format(need)) end
        end
      else
        if #rows >= calibrate.MAX_ROWS then bad(("more than %d measurements"):format(calibrate.MAX_ROWS)) end
        local us = tonumber(f[header.measured_us])
        if not us or us <= 0 or us ~= us or us == math.huge then bad("measured_us must be a positive number") end
        local params = {}
        for pair in (f[header.parameters] or ""):gmatch("[^;]+") do
          local k, v = pair:match("^%s*([%w_]+)%s*=%s*(.-)%s*$")
          if not k then bad(("parameters: '%s' is not name=value"):format(pair)) end
          params[k] = parse_value(v)
        end
        local class = f[header.class]
        if not class or class == "" then bad("class is empty") end
        rows[#rows + 1] = { class = class, parameters = params, measured_s = us * 1e-6, line = lineno,
                            label = header.label and f[header.label] or ("line " .. lineno) }
      end
    end
  end
  if #rows == 0 then util.fail(path .. ": no measurements") end
  return rows
end

-- ---- the torch profiler's trace (torch.profiler ... export_chrome_trace, record_shapes=True) ----

-- the bits of a profiler "Input type"
local TYPE_BITS = { float = 32, double = 64, ["c10::BFloat16"] = 16, ["c10::Half"] = 16, ["c10::Float8_e4m3fn"] = 8,
                    ["c10::Float8_e5m2"] = 8, ["signed char"] = 8, int = 32, long = 64 }

local function numel(dims)
  local n = 1
  for _, d in ipairs(dims) do
    if math.type(d) ~= "integer" or d < 0 then return nil end
    n = n * d
  end
  return n
end

-- the aten ops a trace is read for: op -> function(dims, bits) -> class, parameters (nil: not
-- a shape lmp prices as this op, e.g. an add with a broadcast first operand)
local ATEN = {
  ["aten::mm"] = function (d, bits)
    local a, b = d[1], d[2]
    if #a ~= 2 or #b ~= 2 or a[2] ~= b[1] then return nil end
    return "torch.matmul", { m = a[1], k = a[2], n = b[2], a_bits = bits }
  end,
  ["aten::bmm"] = function (d, bits)
    local a, b = d[1], d[2]
    if #a ~= 3 or #b ~= 3 or a[1] ~= b[1] or a[3] ~= b[2] then return nil end
    return "torch.matmul", { batch = a[1], m = a[2], k = a[3], n = b[3], a_bits = bits }
  end,
  ["aten::addmm"] = function (d, bits) -- bias, x (M x K), W^T (K x N): a Linear with a bias
    local x, w = d[2], d[3]
    if not x or not w or #x ~= 2 or #w ~= 2 or x[2] ~= w[1] then return nil end
    return "torch.nn.modules.linear.Linear", { N = x[1], in_features = x[2], out_features = w[2], bias = true,
                                              a_bits = bits, w_bits = bits }
  end,
}
local function binary(class)
  return function (d, bits)
    local n, m = numel(d[1] or {}), numel(d[2] or {})
    if not n then return nil end
    if m == nil or m == n then return class, { numel = n, a_bits = bits } end -- a scalar second operand: dims {}
    if m < n then return class, { numel = n, broadcast_numel = m, a_bits = bits } end
  end
end
local function unary(class)
  return function (d, bits)
    local n = numel(d[1] or {})
    if n then return class, { numel = n, a_bits = bits } end
  end
end
ATEN["aten::add"], ATEN["aten::mul"] = binary("torch.add"), binary("torch.mul")
ATEN["aten::silu"], ATEN["aten::relu"] = unary("torch.nn.modules.activation.SiLU"), unary("torch.nn.modules.activation.ReLU")
ATEN["aten::gelu"] = unary("torch.nn.modules.activation.GELU")
calibrate.TRACE_OPS = {}
for name in pairs(ATEN) do calibrate.TRACE_OPS[#calibrate.TRACE_OPS + 1] = name end
table.sort(calibrate.TRACE_OPS)

-- read_trace(path) -> rows as read(): one per distinct operation (class and parameters),
-- measured as the median over its calls of the GPU time of the kernels it launched (kernel
-- events whose "External id" is the op's), or, in a trace with no kernels (a CPU run), of
-- the op's own duration
function calibrate.read_trace(path)
  local ok, doc = pcall(core.json_decode, core.read_file(path), path)
  if not ok then util.fail(tostring(doc):gsub("^lmp: ", "")) end
  local events = type(doc) == "table" and (doc.traceEvents or (#doc > 0 and doc)) or nil
  if type(events) ~= "table" then util.fail(path .. ": not a profiler trace (no traceEvents)") end
  local kernel_time, has_kernels, shapes = {}, false, false
  for _, e in ipairs(events) do
    local cat = type(e) == "table" and type(e.cat) == "string" and e.cat:lower() or ""
    if cat == "kernel" and type(e.args) == "table" and e.args["External id"] ~= nil and type(e.dur) == "number" then
      has_kernels = true
      local id = e.args["External id"]
      kernel_time[id] = (kernel_time[id] or 0) + e.dur
    end
  end
  local groups, order = {}, {}
  for i, e in ipairs(events) do
    local cat = type(e) == "table" and type(e.cat) == "string" and e.cat:lower() or ""
    local map = type(e) == "table" and ATEN[e.name]
    if map and (cat == "cpu_op" or cat == "operator") and type(e.args) == "table" then
      local dims, types = e.args["Input Dims"], e.args["Input type"]
      if type(dims) == "table" then
        shapes = true
        local bits = type(types) == "table" and TYPE_BITS[types[1] ~= "" and types[1] or types[2]] or 16
        local okm, class, params = pcall(map, dims, bits)
        local us = has_kernels and kernel_time[e.args["External id"]] or (not has_kernels and e.dur)
        if okm and class and type(us) == "number" and us > 0 then
          local keys = {}
          for k in pairs(params) do keys[#keys + 1] = k end
          table.sort(keys)
          local parts = {}
          for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(params[k]) end
          local key = class .. " " .. table.concat(parts, ";")
          if not groups[key] then
            groups[key] = { class = class, parameters = params, times = {}, line = i, label = e.name .. " " .. table.concat(parts, ";") }
            order[#order + 1] = key
          end
          local g = groups[key].times
          g[#g + 1] = us
        end
      end
    end
  end
  if not shapes then
    util.fail(path .. ": no operator has input shapes: profile with record_shapes=True (and a torch whose exporter " ..
      "writes them: the kineto trace, torch 1.9 and later built with kineto)")
  end
  local rows = {}
  for _, key in ipairs(order) do
    local g = groups[key]
    table.sort(g.times)
    local n = #g.times
    local median = n % 2 == 1 and g.times[(n + 1) // 2] or (g.times[n // 2] + g.times[n // 2 + 1]) / 2
    rows[#rows + 1] = { class = g.class, parameters = g.parameters, measured_s = median * 1e-6, line = g.line,
                        where = ("event %d"):format(g.line),
                        label = ("%s (%d call%s)"):format(g.label, n, n == 1 and "" or "s") }
  end
  if #rows == 0 then util.fail(path .. ": no timed " .. table.concat(calibrate.TRACE_OPS, ", ") .. " with shapes lmp prices") end
  return rows
end

-- prepare(hw, rows, compute): each row's time terms (lmp.roofline.terms). compute(class,
-- parameters) -> the calculator's figures (lmp.compute); a row it cannot price is an error
-- naming the line
function calibrate.prepare(hw, rows, compute, path)
  for _, r in ipairs(rows) do
    local ok, fig = pcall(compute, r.class, r.parameters)
    if not ok then
      util.fail(("%s:%s: %s: %s"):format(path or "?", r.where or r.line, r.class, tostring(fig):gsub("^lmp: ", "")))
    end
    local node = { class = r.class, parameters = r.parameters, matmul_flops = fig.matmul_flops }
    r.terms = roofline.terms(hw, node, { flops = fig.flops, matmul_flops = fig.matmul_flops, reads_bytes = fig.reads,
                                         writes_bytes = fig.writes, intermediates_bytes = fig.intermediates })
    r.terms.bandwidth = hw.memory_GBps * 1e9
  end
  return rows
end

-- the parameters a fit moves: efficiency keys (range from hardware.EFFICIENCY) and the floor
local FLOOR = "kernel_floor_us"
local RANGE = { [FLOOR] = { 0.01, 100 } }
for _, e in ipairs(hardware.EFFICIENCY) do RANGE[e[1]] = { e[3] > 0 and e[3] or 1e-3, e[4] } end
RANGE.gemm_half_m = { 0, 4096 }

-- the keys the rows' classes depend on
local USES = {
  gemm = { "gemm_compute", "gemm_memory", "gemm_half_m" }, attention = { "attention_compute", "attention_memory" },
  norm = { "norm_memory" }, elementwise = { "elementwise_memory" },
}
-- a calculator class's own memory efficiency is fitted (with per_class) for memory-bound
-- operation classes with at least this many measurements
calibrate.PER_CLASS_MIN = 8
local CLASS_KEY = "class:" -- "class:torch.add": efficiency.classes["torch.add"].memory
local OWN_DEFAULT = { elementwise = "elementwise_memory", norm = "norm_memory" }

local function get(params, k)
  if k:sub(1, #CLASS_KEY) == CLASS_KEY then return (params.classes[k:sub(#CLASS_KEY + 1)] or {}).memory end
  return params[k]
end
local function set(params, k, v)
  if k:sub(1, #CLASS_KEY) == CLASS_KEY then params.classes[k:sub(#CLASS_KEY + 1)].memory = v else params[k] = v end
end
local function range(k)
  if k:sub(1, #CLASS_KEY) == CLASS_KEY then return 0.05, 1 end
  return RANGE[k][1], RANGE[k][2]
end

local function copy_params(p)
  local out = {}
  for k, v in pairs(p) do out[k] = v end
  out.classes = {}
  for cls, c in pairs(p.classes or {}) do out.classes[cls] = { compute = c.compute, memory = c.memory } end
  return out
end

-- keys_for(rows, per_class) -> the parameters the rows' classes depend on, and with per_class
-- the memory efficiencies of their own of the memory-bound calculator classes measured often
local function keys_for(rows, per_class)
  local seen, keys, count = {}, {}, {}
  for _, r in ipairs(rows) do
    for _, k in ipairs(USES[r.terms.class]) do
      if not seen[k] then seen[k] = true keys[#keys + 1] = k end
    end
    if per_class and OWN_DEFAULT[r.terms.class] then count[r.terms.full_class] = (count[r.terms.full_class] or 0) + 1 end
  end
  keys[#keys + 1] = "sharpness"
  keys[#keys + 1] = FLOOR
  local own = {}
  for cls, n in pairs(count) do if n >= calibrate.PER_CLASS_MIN then own[#own + 1] = cls end end
  table.sort(own)
  for _, cls in ipairs(own) do keys[#keys + 1] = CLASS_KEY .. cls end
  return keys
end

-- the start of a class's own efficiency: its operation class's
local function with_class_starts(rows, params, keys)
  for _, k in ipairs(keys) do
    if k:sub(1, #CLASS_KEY) == CLASS_KEY then
      local cls = k:sub(#CLASS_KEY + 1)
      if not (params.classes[cls] and params.classes[cls].memory) then
        for _, r in ipairs(rows) do
          if r.terms.full_class == cls then
            params.classes[cls] = params.classes[cls] or {}
            params.classes[cls].memory = params[OWN_DEFAULT[r.terms.class]]
            break
          end
        end
      end
    end
  end
end

local function predict(r, params)
  return (roofline.time_of(r.terms, params, params[FLOOR], 1))
end

-- loss(rows, params [, skip]) -> mean squared log error
local function loss(rows, params, skip)
  local sum, n = 0, 0
  for i, r in ipairs(rows) do
    if i ~= skip then
      local e = math.log(predict(r, params) / r.measured_s)
      sum, n = sum + e * e, n + 1
    end
  end
  return sum / math.max(n, 1)
end

-- fit(rows, start [, skip, step]) -> params: coordinate search, multiplicative steps that
-- halve when no move helps (additive for gemm_half_m, which may be 0)
function calibrate.fit(rows, start, skip, step, per_class)
  local params = copy_params(start)
  local keys = keys_for(rows, per_class)
  with_class_starts(rows, params, keys)
  local best = loss(rows, params, skip)
  step = step or 0.5
  local rounds = 0
  while step > 1e-4 and rounds < 2000 do
    rounds = rounds + 1
    local moved = false
    for _, k in ipairs(keys) do
      local lo, hi = range(k)
      local v = get(params, k)
      local tries = k == "gemm_half_m" and { v + 256 * step, v - 256 * step } or { v * (1 + step), v / (1 + step) }
      for _, t in ipairs(tries) do
        t = math.max(lo, math.min(hi, t))
        if t ~= v then
          set(params, k, t)
          local l = loss(rows, params, skip)
          if l < best then best, v, moved = l, t, true else set(params, k, v) end
        end
      end
    end
    if not moved then step = step / 2 end
  end
  return params, best
end

-- errors(rows, params) -> the relative error of each row's prediction (predicted / measured - 1)
function calibrate.errors(rows, params)
  local out = {}
  for i, r in ipairs(rows) do out[i] = predict(r, params) / r.measured_s - 1 end
  return out
end

-- stats(errors) -> { median, worst, mean } of the absolute errors, and the worst's index
function calibrate.stats(errors)
  local abs = {}
  local worst, at, sum = 0, nil, 0
  for i, e in ipairs(errors) do
    abs[i] = math.abs(e)
    sum = sum + abs[i]
    if abs[i] > worst then worst, at = abs[i], i end
  end
  table.sort(abs)
  local n = #abs
  local median = n == 0 and 0 or (n % 2 == 1 and abs[(n + 1) // 2] or (abs[n // 2] + abs[n // 2 + 1]) / 2)
  return { median = median, worst = worst, worst_at = at, mean = n > 0 and sum / n or 0, n = n }
end

-- params_of(hw) -> the fit's start: the file's efficiencies and floor
function calibrate.params_of(hw)
  local p = copy_params(hw.efficiency)
  p[FLOOR] = hw.kernel_floor_us
  return p
end

-- leave_one_out(rows, fitted) -> the error of each row predicted by a fit without it
-- (warm-started from the full fit, which the row moved little)
function calibrate.leave_one_out(rows, fitted, per_class)
  local out = {}
  for i, r in ipairs(rows) do
    local p = calibrate.fit(rows, fitted, i, 0.05, per_class)
    out[i] = predict(r, p) / r.measured_s - 1
  end
  return out
end

-- run(hw, path, compute) -> report: before and after, the fitted params, leave-one-out
function calibrate.run(hw, path, compute, opts)
  opts = opts or {}
  local trace = path:match("%.json$") ~= nil
  local rows = calibrate.prepare(hw, trace and calibrate.read_trace(path) or calibrate.read(path), compute, path)
  local start = calibrate.params_of(hw)
  local before = calibrate.stats(calibrate.errors(rows, start))
  local fitted = calibrate.fit(rows, start, nil, nil, opts.per_class)
  local after = calibrate.stats(calibrate.errors(rows, fitted))
  local loo = opts.loo ~= false and calibrate.stats(calibrate.leave_one_out(rows, fitted, opts.per_class)) or nil
  return { rows = rows, start = start, fitted = fitted, before = before, after = after, loo = loo,
           keys = keys_for(rows, opts.per_class), get = get }
end

-- calibrated_file(hw, rep, path, name) -> the hardware table to write: the file's figures
-- and sources, the fitted efficiencies and floor, and what they were fitted on
function calibrate.calibrated_file(hw, rep, path, name)
  local out = {}
  for k, v in pairs(hw) do
    if k ~= "file" and k ~= "checked" and k ~= "efficiency" then out[k] = v end
  end
  out.name = name or (hw.name .. "-calibrated")
  out.kernel_floor_us = rep.fitted[FLOOR]
  local sources = {}
  for k, v in pairs(hw.sources) do sources[k] = v end
  sources.kernel_floor_us = ("fitted by lmp calibrate on %s"):format(path)
  out.sources = sources
  out.efficiency = {}
  for _, e in ipairs(hardware.EFFICIENCY) do out.efficiency[e[1]] = rep.fitted[e[1]] end
  if next(rep.fitted.classes) then out.efficiency.classes = rep.fitted.classes end
  out.calibration = { data = path, measurements = #rep.rows, fitted = rep.keys,
                      median_error = rep.after.median, worst_error = rep.after.worst,
                      leave_one_out_median_error = rep.loo and rep.loo.median, leave_one_out_worst_error = rep.loo and rep.loo.worst,
                      before_median_error = rep.before.median, before_worst_error = rep.before.worst }
  return out
end

return calibrate
