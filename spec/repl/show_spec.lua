-- How the REPL prints values and what Tab offers (lmp.repl, without a terminal).
local repl = require "lmp.repl"

describe("REPL printing", function ()
  it("prints scalars as Lua would write them", function ()
    assert.are.equal('"a\\"b"', repl.render('a"b'))
    assert.are.equal("42", repl.render(42))
    assert.are.equal("{}", repl.render({}))
  end)

  it("prints a table one item a line: the list, then the keys sorted, nested tables indented", function ()
    assert.are.equal(table.concat({
      "{",
      "  1,",
      '  "two",',
      "  {",
      "    x = 1,",
      "  },",
      "  [10] = true,",
      '  ["a b"] = 2,',
      "  name = \"n\",",
      "}" }, "\n"), repl.render({ 1, "two", { x = 1 }, name = "n", [10] = true, ["a b"] = 2 }))
  end)

  it("bounds the items of a table and the depth of nesting", function ()
    local list = {}
    for i = 1, repl.MAX_ITEMS + 5 do list[i] = i end
    local lines = {}
    for line in repl.render(list):gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.are.equal(repl.MAX_ITEMS + 3, #lines) -- braces, MAX_ITEMS items, "... 5 more"
    assert.are.equal("  ... 5 more", lines[#lines - 1])
    local deep = { a = { b = { c = { d = 1, e = 2 } } } }
    assert.matches("c = { %.%.%. 2 items },", repl.render(deep))
    local loop = {}
    loop.self = loop
    assert.matches("self = {%.%.%.} %(a table that contains itself%)", repl.render(loop))
  end)

  it("prints results and nodes by their one-line summaries", function ()
    local r = lmp.analyze("models/gpt2.json", { seq_len = 8 })
    assert.are.equal(tostring(r), repl.render(r))
    local nodes = r:find("^lm_head$")
    assert.are.equal("{\n  " .. tostring(nodes[1]) .. ",\n}", repl.render(nodes))
  end)
end)

describe("REPL completion", function ()
  -- complete(line, start): start counts the bytes before the word, as readline gives it
  local function complete(line, word) return repl.complete(line, #line - #word) end

  it("completes a field of a table, and marks tables with a dot", function ()
    assert.are.same({ "lmp.analyze" }, complete("lmp.ana", "lmp.ana"))
    assert.are.same({ "lmp.kernels." }, complete("x = lmp.kern", "lmp.kern"))
    assert.are.same({}, complete("nosuch.x", "nosuch.x"))
  end)

  it("completes file names inside a string, a folder with a slash", function ()
    assert.are.same({ "models/" }, complete('lmp.load("model', "model"))
    -- readline splits words at "/": the candidates replace only what follows it
    assert.are.same({ "gpt2.json" }, complete('lmp.load("models/gpt2.j', "gpt2.j"))
    -- ... and at "-": the whole string is matched, the candidate cut back to the word
    assert.are.same({ "7b-hf.json" }, complete("lmp.load('spec/fixtures/configs/meta-llama--Llama-2-7b", "7b"))
  end)

  it("completes module class names inside a string, not outside one", function ()
    local got = complete("'torch.nn.modules.linear.Li", "torch.nn.modules.linear.Li")
    assert.is_truthy(#got >= 1)
    assert.are.equal("torch.nn.modules.linear.Linear", got[1])
    assert.are.same({}, complete("torch.nn.modules.linear.Li", "torch.nn.modules.linear.Li"))
    -- a closed string: back to fields
    assert.are.same({ "lmp.analyze" }, complete("f('x', lmp.ana", "lmp.ana"))
  end)
end)
