-- help() and the guide share one text: lua/lmp/help.lua reads the `### lmp.*` and
-- `### result:*` headings of docs/lua-api.md and the first paragraph under each, from the
-- data folder or the copy built into the binary.
local help = require "lmp.help"

-- the guide's function headings outside code blocks, counted line by line (help.parse
-- does more: it also takes the paragraph under each)
local function guide_headings()
  local sigs, fenced = {}, false
  for line in io.lines("docs/lua-api.md") do
    if line:match("^```") then fenced = not fenced end
    local sig = not fenced and (line:match("^### (lmp%..*)$") or line:match("^### (result:.*)$"))
    if sig then sigs[#sigs + 1] = sig end
  end
  return sigs
end

local function squeeze(s) return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")) end

-- print() output of fn()
local function printed(fn)
  local out, saved = {}, print
  _G.print = function (...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
    out[#out + 1] = table.concat(parts, "\t")
  end
  local ok, err = pcall(fn)
  _G.print = saved
  assert(ok, err)
  return table.concat(out, "\n") .. "\n"
end

describe("help and docs/lua-api.md", function ()
  it("has one entry per function heading of the guide, in order, with the paragraph under it", function ()
    local sigs = guide_headings()
    assert.is_true(#sigs >= 25, #sigs)
    local ours = {}
    for i, e in ipairs(help.ENTRIES) do ours[i] = e.sig end
    assert.are.same(sigs, ours)
    -- the paragraph is the guide's text under the heading, line breaks joined
    assert.are.equal("Loads and checks a model file. The model is a handle with a few fields: `model_id`, " ..
      "`file`, `config` (the file's `config` table, or nil), `layer_count`, `basic_layer_count`, " ..
      "`encoder_only` (the file's flag: `analyze` and `generate` refuse decode and generate for it).",
      squeeze(help.find(lmp.load_model).text))
    -- a paragraph stops at a blank line, a code block or a heading, and skips the blank lines before it
    local parsed = help.parse("### lmp.f(x)\n\none\ntwo\n\nthree\n### lmp.g()\nfour\n```lua\n### lmp.no()\n```\n")
    assert.are.same({ { sig = "lmp.f(x)", text = "one two" }, { sig = "lmp.g()", text = "four" } }, parsed)
  end)

  it("reads the guide built into the binary when there is no data folder", function ()
    local exe = os.getenv("LMP_EXE") or lmp.executable -- an absolute path: the command runs in /
    local p = io.popen("cd / && LMP_HOME='(bundled)' " .. exe .. [[ -e 'require("lmp.help").help(lmp.load_model)' 2>&1]])
    local out = p:read("a")
    p:close()
    assert.matches("^lmp%.load_model%(path%) %-> model\n\nLoads and checks a model file%.", out)
  end)

  it("finds an entry by function value, by name and for each function a heading names", function ()
    assert.are.equal("lmp.analyze(model_or_path, inputs [, opts]) -> result", help.find(lmp.analyze).sig)
    assert.are.equal(help.find(lmp.analyze), help.find("lmp.analyze"))
    assert.are.equal(help.find(lmp.analyze), help.find("analyze"))
    local flops = help.find(lmp.compute_flops)
    assert.matches("^lmp%.compute_flops / compute_matmul_flops / compute_params", flops.sig)
    assert.are.equal(flops, help.find(lmp.compute_params))
    assert.are.equal(flops, help.find(lmp.compute_matmul_flops))
    assert.are.equal("result:nodes() -> iterator of node, depth", help.find(lmp.Result.nodes).sig)
    assert.is_nil(help.find(print))
  end)

  it("prints a signature, a blank line and the paragraph wrapped, links as their text", function ()
    local out = printed(function () help.help(lmp.format) end)
    assert.matches("^lmp%.format%(result, fmt%) %-> text\n\n`fmt` is `table`", out)
    for line in out:gmatch("[^\n]+") do assert.is_true(#line <= 78, line) end
    out = printed(function () help.help(lmp.Result.format) end)
    assert.matches("see Report formats%.\n$", out)
  end)

  it("help() lists every documented signature, then the functions without an entry", function ()
    local out = printed(function () help.help() end)
    for _, e in ipairs(help.ENTRIES) do assert.matches("\n  " .. e.sig:gsub("%p", "%%%0") .. "\n", out) end
    assert.matches("lmp.user_module_dir", out, 1, true)
    assert.is_nil(out:find("lmp.analyze,", 1, true))
  end)

  it("says there is no help for other values", function ()
    assert.are.equal("no help for lmp.nothing: help() lists the documented functions\n",
      printed(function () help.help("lmp.nothing") end))
    assert.are.equal("no help for function: help() lists the documented functions\n",
      printed(function () help.help(print) end))
  end)
end)
