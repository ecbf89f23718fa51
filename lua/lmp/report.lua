-- Report formatting: table (a readable tree), json, csv, markdown. Figures are exact
-- integers (or exact decimal strings past 2^63-1) and are written as such, never through
-- a float; only the human-unit columns round.
local core = require "lmp.core"
local results = require "lmp.result"

local exact = core.exact
local report = {}

-- 29261612187648 -> "29.26 T"; 3 significant digits or more, SI or IEC prefixes
function report.human(n, binary)
  local x = tonumber(n)
  if x == nil then return tostring(n) end
  local base = binary and 1024 or 1000
  local units = binary and { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB" }
                       or { "", "K", "M", "G", "T", "P", "E", "Z", "Y" }
  local i = 1
  while math.abs(x) >= base and i < #units do
    x = x / base
    i = i + 1
  end
  if i == 1 then
    return binary and ("%d B"):format(math.tointeger(x) or x) or tostring(math.tointeger(x) or x)
  end
  local fmt = math.abs(x) >= 100 and "%.1f %s" or "%.2f %s"
  return fmt:format(x, units[i])
end

-- human figure with a unit: "29.30 TFLOP", "512 FLOP"
function report.with_unit(n, unit)
  local s = report.human(n)
  return s:match("%a$") and (s .. unit) or (s .. " " .. unit)
end

-- 6738415616 -> "6,738,415,616"
function report.grouped(n)
  local s = tostring(n)
  local sign, digits = s:match("^(-?)(%d+)$")
  if not digits then return s end
  digits = digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return sign .. digits
end

-- s safe to print on a terminal: control characters (C0, DEL) as \x1b, C1 controls as
-- \u009b, and bytes that are not valid UTF-8 as \xff; a name from a model file must not
-- move the cursor, retitle the window or recolour the screen
function report.visible(s)
  s = tostring(s)
  if not s:find("[%c\128-\255]") then return s end
  local out, i = {}, 1
  while i <= #s do
    local b = s:byte(i)
    local cp = b >= 0x80 and utf8.len(s, i, i) == 1 and utf8.codepoint(s, i)
    if b < 0x20 or b == 0x7f then out[#out + 1], i = ("\\x%02x"):format(b), i + 1
    elseif b < 0x80 then out[#out + 1], i = string.char(b), i + 1
    elseif not cp then out[#out + 1], i = ("\\x%02x"):format(b), i + 1
    else
      local len = #utf8.char(cp)
      out[#out + 1], i = cp <= 0x9f and ("\\u%04x"):format(cp) or s:sub(i, i + len - 1), i + len
    end
  end
  return table.concat(out)
end
local visible = report.visible

local function short_class(cls)
  return visible(cls:match("([^.]+)$") or cls)
end

local function phase_line(result)
  local i = result.inputs
  local shape = i.phase == "generate"
    and ("batch %d, prompt %d, %d new tokens"):format(i.batch_size, i.prompt_len, i.new_tokens)
    or i.image_size and ("batch %d, image %dx%d"):format(i.batch_size, i.image_size, i.image_size)
    or ("batch %d, seq %d, kv_len %d"):format(i.batch_size, i.seq_len, i.kv_len)
  return ("%s | %s | %s | w%d a%d kv%d bits"):format(visible(result.model_id or "?"), i.phase, shape, i.w_bits, i.a_bits, i.kv_bits)
end

-- rows of the tree in display order: { node=, depth= }
local function flatten(nodes, depth, out)
  for _, n in ipairs(nodes or {}) do
    out[#out + 1] = { node = n, depth = depth }
    flatten(n.children, depth + 1, out)
  end
  return out
end

local function macs(result)
  local m = result.totals.matmul_flops
  return math.type(m) == "integer" and m // 2 or nil
end

-- the table's figure columns: header, field, bytes (IEC units)
local COLUMNS = { { "FLOPs", "flops" }, { "matmul", "matmul_flops" }, { "params", "params" },
                  { "reads", "reads_bytes", true }, { "writes", "writes_bytes", true },
                  { "interm.", "intermediates_bytes", true } }

-- text ending in "~" when cut to w characters
local function cut(s, w)
  if #s <= w then return s end
  return s:sub(1, math.max(w - 1, 0)) .. "~"
end

-- 0.000123 -> "123 us": seconds in the unit that gives 3 significant digits
function report.seconds(x)
  if type(x) ~= "number" then return "?" end
  local units = { { 1, "s" }, { 1e-3, "ms" }, { 1e-6, "us" }, { 1e-9, "ns" } }
  for _, u in ipairs(units) do
    if math.abs(x) >= u[1] or u[1] == 1e-9 then
      local v = x / u[1]
      return (v >= 100 and "%.0f %s" or v >= 10 and "%.1f %s" or "%.2f %s"):format(v, u[2])
    end
  end
end

-- the columns of a timed result (--hw): each hardware's time of the row, with the bound of
-- a basic layer (c compute, m memory, l latency: the kernel floors)
local BOUND_MARK = { compute = "c", memory = "m", latency = "l" }
local function time_columns(result)
  local cols = {}
  for _, t in ipairs(result.timing or {}) do
    cols[#cols + 1] = { header = t.hardware, cell = function (n)
      local nt = n.time and n.time[t.hardware]
      if not nt then return "?" end
      return report.seconds(nt.seconds) .. (BOUND_MARK[nt.bound] and (" " .. BOUND_MARK[nt.bound]) or "  ")
    end }
  end
  return cols
end

-- table_layout(rows) -> widths { name=, class=, rep=, cols = {...}, total= } of these rows
local function table_layout(rows, headers)
  local w = { name = #"layer", class = #"class", rep = #"rep", cols = {}, mark = 0 }
  for k, h in ipairs(headers) do w.cols[k] = #h end
  for _, r in ipairs(rows) do
    w.name = math.max(w.name, #r.name)
    w.class = math.max(w.class, #r.class)
    w.rep = math.max(w.rep, #r.rep)
    w.mark = math.max(w.mark, #r.mark)
    for k, cell in ipairs(r.cells) do w.cols[k] = math.max(w.cols[k], #cell) end
  end
  w.total = w.name + 2 + w.class + 1 + w.rep + w.mark
  for _, cw in ipairs(w.cols) do w.total = w.total + 2 + cw end
  return w
end

-- table(result [, opts]) -> text. opts.width: fit the table in this many columns, first by
-- showing fewer levels (when opts.fit_depth), then by cutting classes and names (marked ~)
function report.table(result, opts)
  opts = opts or {}
  local lines = { phase_line(result) }
  local rows, levels = {}, 0
  local timed = time_columns(result)
  local headers = {}
  for k, c in ipairs(COLUMNS) do headers[k] = c[1] end
  for _, c in ipairs(timed) do headers[#headers + 1] = c.header end
  for _, r in ipairs(flatten(result.tree, 0, {})) do
    local n = r.node
    local cells = {}
    -- an unknown layer has no figures: "?" rather than a zero that reads as a count
    for k, c in ipairs(COLUMNS) do cells[k] = n.unknown and "?" or report.human(n[c[2]], c[3]) end
    for _, c in ipairs(timed) do cells[#cells + 1] = c.cell(n) end
    rows[#rows + 1] = { depth = r.depth, name = string.rep("  ", r.depth) .. visible(n.name), class = short_class(n.class),
      rep = n["repeat"] > 1 and ("x" .. n["repeat"]) or "", cells = cells,
      mark = n.unknown and "  <- UNKNOWN" or (n.incomplete and "  (incomplete)" or "") }
    levels = math.max(levels, r.depth + 1)
  end
  local width = opts.width or math.huge
  local shown, w = levels, table_layout(rows, headers)
  while opts.fit_depth and w.total > width and shown > 1 do
    shown = shown - 1
    local kept = {}
    for _, r in ipairs(rows) do if r.depth < shown then kept[#kept + 1] = r end end
    rows, w = kept, table_layout(kept, headers)
  end
  -- still too wide: cut the classes to 12 characters at least, then the names to 16
  local excess = w.total - width
  if excess > 0 then
    local by = math.min(excess, math.max(w.class - 12, 0))
    w.class, excess = w.class - by, excess - by
    w.name = w.name - math.min(excess, math.max(w.name - 16, 0))
  end
  if #rows > 0 then -- --depth 0 shows the totals alone
    -- padded by hand: string.format's widths stop at 99, and a name can be longer
    local function left(s, n) return s .. string.rep(" ", n - #s) end
    local function right(s, n) return string.rep(" ", n - #s) .. s end
    local function line(name, class, rep, cells)
      local parts = { left(name, w.name), "  ", left(class, w.class), " ", right(rep, w.rep) }
      for k, cw in ipairs(w.cols) do parts[#parts + 1] = "  " .. right(cells[k], cw) end
      return table.concat(parts)
    end
    lines[#lines + 1] = ""
    lines[#lines + 1] = line("layer", "class", "rep", headers)
    for _, r in ipairs(rows) do
      lines[#lines + 1] = line(cut(r.name, w.name), cut(r.class, w.class), r.rep, r.cells) .. r.mark
    end
    lines[#lines + 1] = "(a row's figures include its own xN repeat; the rows under it are for one instance of it)"
    if #timed > 0 then
      lines[#lines + 1] = "(time: predicted on the named hardware; bound c compute, m memory, l kernel floors)"
    end
    if shown < levels then
      lines[#lines + 1] = ("(%d of %d levels shown, to fit %d columns; --depth %d shows all)"):format(shown, levels,
        width, levels)
    end
  end
  local t = result.totals
  lines[#lines + 1] = ""
  lines[#lines + 1] = "totals (exact)"
  local function total(label, v, human)
    if v == nil then return end
    lines[#lines + 1] = ("  %-22s %28s   %s"):format(label, report.grouped(v), human)
  end
  -- each "of which" line sits under the figure it is part of
  total("flops", t.flops, report.with_unit(t.flops, "FLOP"))
  total("  of which backward", t.backward_flops, report.with_unit(t.backward_flops or 0, "FLOP"))
  total("matmul_flops", t.matmul_flops, report.with_unit(t.matmul_flops, "FLOP"))
  total("  of which backward", t.backward_matmul_flops, report.with_unit(t.backward_matmul_flops or 0, "FLOP"))
  if macs(result) then total("matmul MACs", macs(result), report.with_unit(macs(result), "MAC")) end
  total("params", t.params, report.human(t.params))
  if t.active_params ~= t.params then total("active_params", t.active_params, report.human(t.active_params)) end
  total("reads_bytes", t.reads_bytes, report.human(t.reads_bytes, true))
  total("  of which weights", t.weight_bytes, report.human(t.weight_bytes, true))
  total("writes_bytes", t.writes_bytes, report.human(t.writes_bytes, true))
  total("intermediates_bytes", t.intermediates_bytes, report.human(t.intermediates_bytes, true))
  total("backward_reads_bytes", t.backward_reads_bytes, report.human(t.backward_reads_bytes or 0, true))
  total("backward_writes_bytes", t.backward_writes_bytes, report.human(t.backward_writes_bytes or 0, true))
  total("optimizer_bytes", t.optimizer_bytes, report.human(t.optimizer_bytes or 0, true))
  local f = result.footprint
  if f then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "memory footprint (exact bytes)"
    total("weights", f.weights, report.human(f.weights, true))
    total("gradients", f.gradients, report.human(f.gradients, true))
    total("optimizer (Adam)", f.optimizer, report.human(f.optimizer, true))
    total("kv_cache", f.kv_cache, report.human(f.kv_cache, true))
    total("saved_activations", f.saved_activations, report.human(f.saved_activations, true))
    total("peak_activation", f.peak_activation, report.human(f.peak_activation, true))
    total("total", f.total, report.human(f.total, true))
  end
  for _, tm in ipairs(result.timing or {}) do report.timing_lines(lines, result, tm) end
  if result.layout then report.layout_lines(lines, result.layout) end
  if #result.unknown_modules > 0 then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "UNKNOWN MODULES: no calculator, so the figures above leave them out"
    for _, u in ipairs(result.unknown_modules) do
      lines[#lines + 1] = ("  %s  (x%s)"):format(visible(u.class), tostring(u.count))
    end
    lines[#lines + 1] = "  write a calculator for each (lmp generate, or by hand in ~/.local/share/lmp/modules: docs/calculators.md)"
  end
  return table.concat(lines, "\n") .. "\n"
end

-- the phase's headline times, as report.timing_lines and markdown print them
local HEADLINE = {
  { "ttft_s", "time to first token" }, { "tpot_s", "time per output token" }, { "step_s", "train step" },
  { "forward_s", "  forward" }, { "backward_s", "  backward" }, { "optimizer_s", "  optimizer (Adam)" },
  { "decode_s", "decode steps" },
}

-- timing_lines(lines, result, t): a hardware's predicted totals under the table
function report.timing_lines(lines, result, t)
  lines[#lines + 1] = ""
  lines[#lines + 1] = ("time on %s (%s), predicted"):format(t.hardware, t.title or t.hardware)
  local function line(label, text) lines[#lines + 1] = ("  %-22s %s"):format(label, text) end
  for _, h in ipairs(HEADLINE) do if t[h[1]] then line(h[2], report.seconds(t[h[1]])) end end
  if result.inputs.phase == "generate" then line("total", report.seconds(t.seconds)) end
  line("tokens/s", ("%.1f  (%s token%s in %s)"):format(t.tokens_per_s, report.grouped(math.tointeger(t.tokens) or t.tokens),
    t.tokens == 1 and "" or "s", report.seconds(t.seconds)))
  if t.mfu then line("MFU", ("%.1f%%  (of the %s peak)"):format(100 * t.mfu, t.peak_dtype)) end
  line("bandwidth use", ("%.1f%%"):format(100 * t.mbu))
  if t.seconds_by_bound then
    local b = t.seconds_by_bound
    local sum = b.compute + b.memory + b.latency
    local function pct(x) return sum > 0 and ("%.0f%%"):format(100 * x / sum) or "0%" end
    line("bound by", ("compute %s, memory %s, kernel floors %s of the time"):format(pct(b.compute), pct(b.memory), pct(b.latency)))
  end
  if t.energy_J_per_token then
    line("energy", ("%.3g J a token at %g W"):format(t.energy_J_per_token, t.power_W or 0))
  end
  local f = t.fit
  if f then
    local gib = 2 ^ 30
    line(("fits on %d?"):format(f.gpus), ("%s: needs %.2f GiB of %.2f GiB usable (%d x %g GiB, %d%% kept for the runtime), %s %.2f GiB"):format(
      f.fits and "yes" or "NO", f.need_bytes / gib, f.usable_bytes / gib, f.gpus, f.capacity_bytes / f.gpus / gib,
      math.floor(100 * f.reserve_fraction + 0.5), f.fits and "margin" or "short by", math.abs(f.margin_bytes) / gib))
  end
end

-- layout_lines(lines, layout): a parallel layout's answer per rank (lmp.parallel)
function report.layout_lines(lines, p)
  local l = p.layout
  local gib = 2 ^ 30
  lines[#lines + 1] = ""
  lines[#lines + 1] = ("layout: tp %d x pp %d x dp %d = %d GPUs%s, ZeRO %d, micro-batch %d, %d micro-batch%s a step (global %d)")
    :format(l.tp, l.pp, l.dp, l.gpus, (l.cp > 1 and (" x cp %d"):format(l.cp) or "") ..
      (l.ep > 1 and (" (ep %d of the dp)"):format(l.ep) or ""), l.zero, l.micro_batch,
      l.micro_batches, l.micro_batches == 1 and "" or "es", l.global_batch)
  local train = p.stages[1].gradients ~= nil
  lines[#lines + 1] = train and "  stage  layers       params     weights   gradients   optimizer  activations       total"
                             or "  stage  layers       params     weights    kv_cache  peak_activ.       total"
  local function g(x) return ("%.2f GiB"):format((x or 0) / gib) end
  for s, e in ipairs(p.stages) do
    local mark = s == p.largest_stage and "  <- largest" or ""
    if train then
      lines[#lines + 1] = ("  %5d  %6s  %11s  %10s  %10s  %10s  %11s  %10s%s"):format(s, e.decoder_layers or "-",
        report.grouped(e.params), g(e.weights), g(e.gradients), g(e.optimizer), g(e.activations), g(e.total), mark)
    else
      lines[#lines + 1] = ("  %5d  %6s  %11s  %10s  %10s  %11s  %10s%s"):format(s, e.decoder_layers or "-",
        report.grouped(e.params), g(e.weights), g(e.kv_cache), g(e.peak_activation), g(e.total), mark)
    end
  end
  lines[#lines + 1] = "  collectives a step, per rank (bytes each rank sends on a ring):"
  for s, c in ipairs(p.collectives) do
    for _, x in ipairs(c) do
      lines[#lines + 1] = ("    stage %d  %-14s over %-2s (%d ranks)  %6d calls  %12s B  wire %12s B%s"):format(s, x.kind,
        x.group, x.ranks, x.calls, report.grouped(x.bytes), report.grouped(x.wire_bytes),
        x.seconds and ("  %s"):format(report.seconds(x.seconds)) or "")
    end
  end
  local b = p.budget
  if b then
    lines[#lines + 1] = ("  budget of %s tokens: %s steps; lmp counts %s FLOP, 6ND %s FLOP (%+.1f%%: attention's products "
      .. "over the context and the logits against 6 x %s parameters)"):format(report.grouped(b.tokens), report.grouped(b.steps),
      report.with_unit(b.lmp_flops, ""), report.with_unit(b.six_nd_flops, ""), 100 * b.vs_six_nd, report.human(b.params))
  end
  local t = p.timing
  if t and t.budget_s then
    lines[#lines + 1] = ("  the budget on %d x %s: %.1f days, %s GPU-hours"):format(l.gpus, t.hardware, t.budget_s / 86400,
      report.grouped(math.floor(t.gpu_hours + 0.5)))
  end
  if t then
    lines[#lines + 1] = ("  %s tokens a step; on %s: %.0f tokens/s, MFU %s"):format(report.grouped(p.tokens), t.hardware,
      t.tokens_per_s, t.mfu and ("%.1f%%"):format(100 * t.mfu) or "-")
    if t.pipeline_s then
      lines[#lines + 1] = ("  step on %s, predicted: %s (pipeline %s of which bubble %.1f%%, data-parallel exposed %s, optimizer %s)")
        :format(t.hardware, report.seconds(t.step_s), report.seconds(t.pipeline_s), 100 * t.bubble_fraction,
          report.seconds(t.dp_exposed_s), report.seconds(t.optimizer_s))
    else
      lines[#lines + 1] = ("  step on %s, predicted: %s"):format(t.hardware, report.seconds(t.step_s))
    end
  end
end

-- the layout's JSON: what a rank holds and sends, without the stages' whole results
local function layout_json(p)
  if not p then return nil end
  local stages = {}
  for s, e in ipairs(p.stages) do
    local x = {}
    for k, v in pairs(e) do if k ~= "result" and k ~= "split" and k ~= "recompute_forward" then x[k] = v end end
    x.replicated_layers = e.split.replicated
    x.untied_layers = e.split.untied
    stages[s] = x
  end
  return { layout = p.layout, stages = stages, collectives = p.collectives, largest_stage = p.largest_stage,
           timing = p.timing, model_flops = p.model_flops, tokens = p.tokens, budget = p.budget }
end

-- ---- JSON ----

local json = require "lmp.json"
-- the keys whose values are exact figures: every figure (core.FIGURES), macs, the
-- footprint's (lmp.phases) and an unknown module's count
local EXACT = { count = true, macs = true, weights = true, gradients = true, optimizer = true, kv_cache = true,
                saved_activations = true, peak_activation = true, total = true }
for _, f in ipairs(core.FIGURES) do EXACT[f.name] = f.exact end
local ARRAYS = { tree = true, children = true, unknown_modules = true, timing = true, stages = true,
                 collectives = true, replicated_layers = true, untied_layers = true }

function report.to_json(value)
  return json.encode(value, { exact = EXACT, arrays = ARRAYS })
end

function report.json(result)
  local totals = {}
  for k, v in pairs(result.totals) do totals[k] = v end
  totals.macs = macs(result)
  return report.to_json({
    model_id = result.model_id,
    inputs = result.inputs,
    totals = totals,
    footprint = result.footprint,
    steps = result.steps,
    timing = result.timing,
    layout = layout_json(result.layout),
    tree = result.tree,
    unknown_modules = result.unknown_modules,
    complete = result.complete,
  }) .. "\n"
end

-- ---- CSV and markdown: one row per node shown ----

local function csv_field(s)
  s = tostring(s)
  if s:find('[,"\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

-- CSV (docs/csv.md): every node with its path, depth, basic, repeat, active and the
-- instances above and including it, its figures for one instance and for all of them, and
-- the run's inputs. Summed over the basic rows, each *_total column is the JSON total.
-- The figures come from core.FIGURES: those a repeat multiplies (per instance and total),
-- then the maxima (peak_activation_bytes, one column). The inputs are core.INPUTS' but
-- enc_len and logits_len, which came after the CSV's columns were fixed (docs/csv.md).
report.CSV_FIGURES, report.CSV_MAXIMA = {}, {}
for _, f in ipairs(core.FIGURES) do
  local list = f.scale == "peak" and report.CSV_MAXIMA or report.CSV_FIGURES
  list[#list + 1] = f.name
end
report.CSV_INPUTS = { "phase" }
for _, row in ipairs(core.INPUTS) do
  if row.name ~= "enc_len" and row.name ~= "logits_len" then report.CSV_INPUTS[#report.CSV_INPUTS + 1] = row.name end
end

function report.csv(result)
  local i = result.inputs
  local generate = i.phase == "generate" -- the tree is the prefill's
  local run, columns = {}, {}
  for _, k in ipairs(report.CSV_INPUTS) do -- image_size only for a model that reads it
    local row = core.INPUTS[k]
    if not (row and row.when_used and i[k] == nil) then
      columns[#columns + 1] = k
      run[#run + 1] = csv_field(i[k])
    end
  end
  if generate then run[1] = "prefill" end
  local totals = {}
  for k, f in ipairs(report.CSV_FIGURES) do totals[k] = f .. "_total" end
  local lines = { table.concat({ "path", "depth", "name", "class", "basic", "repeat", "active", "instances",
    "active_instances", "weight_instances", table.concat(report.CSV_FIGURES, ","), table.concat(report.CSV_MAXIMA, ","),
    table.concat(totals, ","), "weights_tied_to", "unknown", "model_id", table.concat(columns, ",") }, ",") }
  -- with --hw, after the run's columns: the row's FLOPs per byte, and each hardware's time of
  -- the row, of all its instances, and the bound
  local timed = {}
  for _, t in ipairs(result.timing or {}) do timed[#timed + 1] = t.hardware end
  if #timed > 0 then
    local extra = { "flop_per_byte" }
    for _, h in ipairs(timed) do
      extra[#extra + 1] = csv_field(h .. "_seconds")
      extra[#extra + 1] = csv_field(h .. "_total_seconds")
      extra[#extra + 1] = csv_field(h .. "_bound")
    end
    lines[1] = lines[1] .. "," .. table.concat(extra, ",")
  end
  local tokens = exact.mul(i.batch_size, i.seq_len)
  -- above: the cumulative multipliers of the node's ancestors
  local function walk(nodes, depth, above)
    for _, n in ipairs(nodes or {}) do
      local own, cum, per, all = results.instance_figures(n, above, tokens)
      local row = { csv_field(n.path), depth, csv_field(n.name), csv_field(n.class),
                    n.children == nil and n.parameters ~= nil and "true" or "false",
                    own.r, own.a, cum.r, cum.a, cum.w }
      for _, f in ipairs(report.CSV_FIGURES) do row[#row + 1] = tostring(per[f]) end
      for _, f in ipairs(report.CSV_MAXIMA) do row[#row + 1] = tostring(n[f]) end
      for _, f in ipairs(report.CSV_FIGURES) do row[#row + 1] = tostring(all[f]) end
      row[#row + 1] = csv_field(n.weights_tied_to or "")
      row[#row + 1] = (n.unknown or n.incomplete) and "true" or "false"
      row[#row + 1] = csv_field(result.model_id or "")
      local line = table.concat(row, ",") .. "," .. table.concat(run, ",")
      if #timed > 0 then
        local bytes = exact.add(n.reads_bytes or 0, n.writes_bytes or 0)
        local extra = { exact.cmp(bytes, 0) > 0 and ("%.6g"):format(tonumber(n.flops) / tonumber(bytes)) or "" }
        for _, h in ipairs(timed) do
          local nt = n.time and n.time[h]
          extra[#extra + 1] = nt and ("%.6g"):format(nt.seconds) or ""
          extra[#extra + 1] = nt and ("%.6g"):format(nt.total_seconds) or ""
          extra[#extra + 1] = nt and nt.bound or ""
        end
        line = line .. "," .. table.concat(extra, ",")
      end
      lines[#lines + 1] = line
      walk(n.children, depth + 1, cum)
    end
  end
  walk(result.tree, 0, results.UNIT)
  return table.concat(lines, "\n") .. "\n"
end

function report.markdown(result)
  local timed = time_columns(result)
  local head, rule, tail = "", "", ""
  for _, c in ipairs(timed) do head, rule = head .. " " .. c.header .. " |", rule .. "---:|" end
  for _, t in ipairs(result.timing or {}) do tail = tail .. " " .. report.seconds(t.seconds) .. " |" end
  local lines = { "**" .. phase_line(result) .. "**", "",
    "| layer | class | repeat | FLOPs | matmul FLOPs | params | reads | writes | intermediates |" .. head,
    "|---|---|---:|---:|---:|---:|---:|---:|---:|" .. rule }
  for _, r in ipairs(flatten(result.tree, 0, {})) do
    local n = r.node
    local function fig(v) return n.unknown and "?" or report.grouped(v) end -- unknown: no figures, not zeros
    local times = ""
    for _, c in ipairs(timed) do times = times .. " " .. c.cell(n):gsub("%s+$", "") .. " |" end
    lines[#lines + 1] = ("| %s%s | `%s` | %s | %s | %s | %s | %s | %s | %s |"):format(
      string.rep("&nbsp;&nbsp;", r.depth), visible(n.name) .. (n.unknown and " **(unknown)**" or ""), short_class(n.class),
      n["repeat"], fig(n.flops), fig(n.matmul_flops), fig(n.params),
      fig(n.reads_bytes), fig(n.writes_bytes), fig(n.intermediates_bytes)) .. times
  end
  local t = result.totals
  lines[#lines + 1] = ("| **total** | | | %s | %s | %s | %s | %s | %s |"):format(report.grouped(t.flops),
    report.grouped(t.matmul_flops), report.grouped(t.params), report.grouped(t.reads_bytes),
    report.grouped(t.writes_bytes), report.grouped(t.intermediates_bytes)) .. tail
  if result.timing then
    local text = {}
    for _, tm in ipairs(result.timing) do report.timing_lines(text, result, tm) end
    for _, l in ipairs(text) do
      if l ~= "" then lines[#lines + 1] = l:match("^  ") and ("- " .. l:gsub("^%s+", "")) or ("\n**" .. l .. "**\n") end
    end
  end
  if #result.unknown_modules > 0 then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "Unknown modules (not counted): " .. table.concat((function ()
      local l = {}
      for _, u in ipairs(result.unknown_modules) do l[#l + 1] = ("`%s` x%s"):format(visible(u.class), tostring(u.count)) end
      return l
    end)(), ", ")
  end
  return table.concat(lines, "\n") .. "\n"
end

-- The output formats, the one list the CLI's parser, help and errors and the fuzzers read;
-- each is the function report[name], the first is the default.
report.FORMATS = {
  { name = "table", doc = "a readable tree with totals" },
  { name = "json", doc = "every figure exact, the whole tree" },
  { name = "csv", doc = "one row per node shown (docs/csv.md)" },
  { name = "markdown", doc = "a table for notes and papers" },
}
for _, f in ipairs(report.FORMATS) do report.FORMATS[f.name] = f end

-- format(result, format [, opts]): opts go to report.table (width, fit_depth)
function report.format(result, format, opts)
  if not report.FORMATS[format] then error("unknown format " .. tostring(format)) end
  return report[format](result, opts)
end

return report
