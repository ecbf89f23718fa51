-- The REPL on a real pseudo-terminal (tmux): an expression prints its value, Tab completes,
-- Ctrl-C stops a loop or clears the line without ending the session (also after a Tab
-- completion), Ctrl-D leaves, history is on disk as soon as a line is entered.
local h = require "spec.helpers"

local has_tmux = os.execute("command -v tmux >/dev/null 2>&1")

local function sh(cmd) return io.popen(cmd):read("a") end
local function read(path) return h.read_file(path) or "" end

-- a REPL in a tmux session of its own, started in the repository root
local function open_repl(history)
  local s = { name = "lmp-spec-" .. tostring(os.time()) .. tostring(math.random(1000000)) }
  function s.keys(...)
    local args = {}
    for _, k in ipairs({ ... }) do args[#args + 1] = "'" .. k:gsub("'", "'\\''") .. "'" end
    os.execute(("tmux send-keys -t %s %s"):format(s.name, table.concat(args, " ")))
  end
  function s.screen() return sh(("tmux capture-pane -t %s -p 2>/dev/null"):format(s.name)) end
  function s.alive() return os.execute(("tmux has-session -t %s 2>/dev/null"):format(s.name)) end
  -- waits until the screen shows `text` (or 20 s pass, more under the sanitizers: a busy
  -- machine can take seconds to start the REPL), and returns the screen
  function s.wait_for(text)
    local screen
    for _ = 1, math.ceil(400 * h.slow_factor) do
      screen = s.screen()
      if screen:find(text, 1, true) then return screen end
      os.execute("sleep 0.05")
    end
    return screen
  end
  function s.wait_gone()
    for _ = 1, 100 do
      if not s.alive() then return end
      os.execute("sleep 0.05")
    end
  end
  function s.close() os.execute(("tmux kill-session -t %s 2>/dev/null"):format(s.name)) end
  -- exec: the pane's process is lmp itself, so that it can be killed
  os.execute(("tmux new-session -d -s %s -x 160 -y 50 -c \"$(pwd)\" \"exec env LMP_HISTORY=%s %s\""):format(
    s.name, history, h.exe))
  s.wait_for("lmp>") -- (capture-pane drops the trailing space)
  return s
end

describe("REPL", function ()
  if not has_tmux then
    pending("tmux is not installed (scripts/deps.sh installs it)")
    return
  end

  local history = os.tmpname()
  local repl

  setup(function ()
    os.remove(history)
    repl = open_repl(history)
  end)

  teardown(function ()
    repl.close()
    os.remove(history)
  end)

  it("prints the value of an expression", function ()
    repl.keys("6 * 7", "Enter")
    assert.matches("lmp> 6 %* 7\n42\n", repl.wait_for("42"))
  end)

  it("reads a statement over several lines", function ()
    repl.keys("local t = {", "Enter", "answer = 41 + 1 }", "Enter")
    repl.keys("print(type(lmp.analyze))", "Enter")
    assert.matches(">> answer = 41 %+ 1 }", repl.wait_for("function"))
  end)

  it("completes API names with Tab", function ()
    repl.keys("lmp.compute_fl", "Tab")
    assert.matches("lmp> lmp.compute_flops", repl.wait_for("lmp.compute_flops"))
    repl.keys("C-u")
  end)

  it("completes a function field with no space after it, so ( follows", function ()
    repl.keys("lmp.ana", "Tab", "(")
    assert.matches("lmp> lmp%.analyze%(\n", repl.wait_for("lmp.analyze("))
    repl.keys("C-u")
  end)

  it("completes module class names inside a string", function ()
    repl.keys("'torch.nn.modules.linear.Li", "Tab")
    assert.matches("torch.nn.modules.linear.Linear", repl.wait_for("torch.nn.modules.linear.Linear"))
    repl.keys("C-u")
  end)

  it("completes file names inside a string, folder by folder", function ()
    repl.keys('m = lmp.load("model', "Tab")
    assert.matches('lmp> m = lmp%.load%("models/\n', repl.wait_for('lmp.load("models/'))
    repl.keys("gpt2.j", "Tab")
    repl.wait_for("models/gpt2.json")
    repl.keys('")', "Enter", "m.model_id", "Enter")
    assert.matches('lmp> m.model_id\n"openai%-community/gpt2"\n', repl.wait_for('"openai-community/gpt2"'))
  end)

  it("prints help(lmp.analyze): the signature and the guide's paragraph", function ()
    repl.keys("help(lmp.analyze)", "Enter")
    local s = repl.wait_for("sweeping inputs in a loop is fine.")
    assert.matches("\nlmp%.analyze%(model_or_path, inputs %[, opts%]%) %-> result\n\n`model_or_path` is a model", s)
  end)

  it("prints a list one item a line, nodes by their summaries", function ()
    repl.keys('r = lmp.analyze("models/gpt2.json", { seq_len = 8 })', "Enter")
    repl.keys('r:find("^transformer%.h%.ln_")', "Enter")
    local s = repl.wait_for("ln_2 (LayerNorm)")
    assert.matches("\n{\n  transformer%.h%.ln_1 %(LayerNorm%): [^\n]*,\n  transformer%.h%.ln_2 %(LayerNorm%): [^\n]*,\n}\n", s)
  end)

  it("interrupts a loop with Ctrl-C and keeps the session", function ()
    repl.keys("while true do end", "Enter")
    os.execute("sleep 0.3")
    repl.keys("C-c")
    assert.matches("interrupted!", repl.wait_for("interrupted!"))
    repl.keys("'still here'", "Enter")
    assert.matches('"still here"', repl.wait_for('"still here"'))
  end)

  it("leaves on Ctrl-D and keeps the history", function ()
    repl.keys("C-d")
    repl.wait_gone()
    assert.is_falsy(repl.alive())
    assert.matches("6\\040*\\0407", read(history), 1, true)
  end)
end)

describe("REPL after a Tab completion", function ()
  if not has_tmux then
    pending("tmux is not installed (scripts/deps.sh installs it)")
    return
  end

  it("Ctrl-C clears the line at the prompt and interrupts a loop; the session goes on", function ()
    local history = os.tmpname()
    local repl = open_repl(history)
    finally(function () repl.close(); os.remove(history) end)
    repl.keys("lmp.compute_fl", "Tab")
    repl.wait_for("lmp.compute_flops")
    repl.keys("C-c")
    os.execute("sleep 0.2")
    assert.is_truthy(repl.alive())
    repl.keys("while true do end", "Enter")
    os.execute("sleep 0.3")
    repl.keys("C-c")
    repl.wait_for("interrupted!")
    assert.is_truthy(repl.alive())
    repl.keys("1+1", "Enter")
    -- the completed word was dropped by the first Ctrl-C: 1+1 is the whole line
    assert.matches("\nlmp> 1%+1\n2\n", repl.wait_for("\n2\n"))
  end)
end)

describe("REPL history", function ()
  if not has_tmux then
    pending("tmux is not installed (scripts/deps.sh installs it)")
    return
  end

  it("is in the file as soon as a line is entered: a killed session keeps it", function ()
    local history = os.tmpname()
    os.remove(history)
    local repl = open_repl(history)
    finally(function () repl.close(); os.remove(history) end)
    repl.keys("'kept after kill'", "Enter", ":help", "Enter")
    repl.wait_for('"kept after kill"')
    repl.wait_for(":quit")
    local pid = sh(("tmux display-message -p -t %s '#{pane_pid}'"):format(repl.name)):match("%d+")
    assert.is_truthy(pid)
    os.execute("kill -KILL " .. pid)
    repl.wait_gone()
    assert.is_falsy(repl.alive())
    local text = read(history)
    assert.matches("'kept\\040after\\040kill'\n", text, 1, true)
    assert.matches("\n:help\n", text, 1, true)
  end)

  -- each session used to rewrite the file from its own memory, dropping the other's lines
  it("keeps every line of two sessions entering lines alternately, each appended as entered", function ()
    local history = os.tmpname()
    os.remove(history)
    local a, b = open_repl(history), open_repl(history)
    finally(function () a.close(); b.close(); os.remove(history) end)
    for i = 1, 3 do
      for _, s in ipairs({ { a, "a" }, { b, "b" } }) do
        local value = ("%s%d"):format(s[2], i)
        s[1].keys(("'%s'"):format(value), "Enter")
        s[1].wait_for(('"%s"'):format(value))
      end
    end
    a.keys("C-d")
    b.keys("C-d")
    a.wait_gone()
    b.wait_gone()
    local text = read(history)
    assert.are.equal("_HiStOrY_V2_\n'a1'\n'b1'\n'a2'\n'b2'\n'a3'\n'b3'\n", text)
    -- a new session reads them back: the first Up is the last line entered
    local c = open_repl(history)
    finally(function () c.close() end)
    c.keys("Up", "Enter")
    assert.matches('"b3"', c.wait_for('"b3"'))
  end)

  it("keeps only the last 1000 lines once the file has more than 2000", function ()
    local history = os.tmpname()
    local lines = { "_HiStOrY_V2_" }
    for i = 1, 2001 do lines[#lines + 1] = "old" .. i end
    local f = assert(io.open(history, "w"))
    f:write(table.concat(lines, "\n") .. "\n")
    f:close()
    local repl = open_repl(history)
    finally(function () repl.close(); os.remove(history) end)
    repl.keys("'new\\\\one'", "Enter") -- typed: 'new\\one', the string new\one
    repl.wait_for('"new\\\\one"')
    local text = read(history)
    local _, count = text:gsub("\n", "")
    assert.are.equal(1 + 1000 + 1, count) -- the header, old1002..old2001, the new line
    assert.matches("^_HiStOrY_V2_\nold1002\n", text)
    local tail = "\nold2001\n'new\\\\\\\\one'\n" -- each backslash doubled
    assert.are.equal(tail, text:sub(-#tail))
  end)
end)
