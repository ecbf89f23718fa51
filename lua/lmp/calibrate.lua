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

-- prepare(hw, rows, compute): each row's time terms (lmp.roofline.terms). compute(class,
-- parameters) -> the calculator's figures (lmp.compute); a row it cannot price is an error
-- naming the line
function calibrate.prepare(hw, rows, compute, path)
  for _, r in ipairs(rows) do
    local ok, fig = pcall(compute, r.class, r.parameters)
    if not ok then util.fail(("%s:%d: %s: %s"):format(path or "?", r.line, r.class, tostring(fig):gsub("^lmp: ", ""))) end
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
local function keys_for(rows)
  local seen, keys = {}, {}
  for _, r in ipairs(rows) do
    for _, k in ipairs(USES[r.terms.class]) do
      if not seen[k] then seen[k] = true keys[#keys + 1] = k end
    end
  end
  keys[#keys + 1] = "sharpness"
  keys[#keys + 1] = FLOOR
  return keys
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
function calibrate.fit(rows, start, skip, step)
  local params = {}
  for k, v in pairs(start) do params[k] = v end
  local keys = keys_for(rows)
  local best = loss(rows, params, skip)
  step = step or 0.5
  local rounds = 0
  while step > 1e-4 and rounds < 2000 do
    rounds = rounds + 1
    local moved = false
    for _, k in ipairs(keys) do
      local lo, hi = RANGE[k][1], RANGE[k][2]
      local v = params[k]
      local tries = k == "gemm_half_m" and { v + 256 * step, v - 256 * step } or { v * (1 + step), v / (1 + step) }
      for _, t in ipairs(tries) do
        t = math.max(lo, math.min(hi, t))
        if t ~= v then
          params[k] = t
          local l = loss(rows, params, skip)
          if l < best then best, v, moved = l, t, true else params[k] = v end
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
  local p = {}
  for k, v in pairs(hw.efficiency) do p[k] = v end
  p[FLOOR] = hw.kernel_floor_us
  return p
end

-- leave_one_out(rows, fitted) -> the error of each row predicted by a fit without it
-- (warm-started from the full fit, which the row moved little)
function calibrate.leave_one_out(rows, fitted)
  local out = {}
  for i, r in ipairs(rows) do
    local p = calibrate.fit(rows, fitted, i, 0.05)
    out[i] = predict(r, p) / r.measured_s - 1
  end
  return out
end

-- run(hw, path, compute) -> report: before and after, the fitted params, leave-one-out
function calibrate.run(hw, path, compute, opts)
  opts = opts or {}
  local rows = calibrate.prepare(hw, calibrate.read(path), compute, path)
  local start = calibrate.params_of(hw)
  local before = calibrate.stats(calibrate.errors(rows, start))
  local fitted = calibrate.fit(rows, start)
  local after = calibrate.stats(calibrate.errors(rows, fitted))
  local loo = opts.loo ~= false and calibrate.stats(calibrate.leave_one_out(rows, fitted)) or nil
  return { rows = rows, start = start, fitted = fitted, before = before, after = after, loo = loo, keys = keys_for(rows) }
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
  out.calibration = { data = path, measurements = #rep.rows, fitted = rep.keys,
                      median_error = rep.after.median, worst_error = rep.after.worst,
                      leave_one_out_median_error = rep.loo and rep.loo.median, leave_one_out_worst_error = rep.loo and rep.loo.worst,
                      before_median_error = rep.before.median, before_worst_error = rep.before.worst }
  return out
end

return calibrate
