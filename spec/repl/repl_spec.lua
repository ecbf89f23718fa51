-- The REPL on a real pseudo-terminal (tmux): an expression prints its value, Tab completes,
-- Ctrl-C stops a loop without ending the session, Ctrl-D leaves, history is kept.
local h = require "spec.helpers"

local has_tmux = os.execute("command -v tmux >/dev/null 2>&1")

local function sh(cmd) return io.popen(cmd):read("a") end

describe("REPL", function ()
  if not has_tmux then
    pending("tmux is not installed (scripts/deps.sh installs it)")
    return
  end

  local session = "lmp-spec-" .. tostring(os.time()) .. tostring(math.random(1000000))
  local history = os.tmpname()

  local function keys(...)
    local args = {}
    for _, k in ipairs({ ... }) do args[#args + 1] = "'" .. k:gsub("'", "'\\''") .. "'" end
    os.execute(("tmux send-keys -t %s %s"):format(session, table.concat(args, " ")))
  end
  local function screen() return sh(("tmux capture-pane -t %s -p"):format(session)) end
  -- waits until the screen shows `text` (or 5 s pass), and returns the screen
  local function wait_for(text)
    local s
    for _ = 1, 100 do
      s = screen()
      if s:find(text, 1, true) then return s end
      os.execute("sleep 0.05")
    end
    return s
  end

  setup(function ()
    os.remove(history)
    os.execute(("tmux new-session -d -s %s -x 160 -y 50 \"env LMP_HISTORY=%s %s\""):format(session, history, h.exe))
    wait_for("lmp> ")
  end)

  teardown(function ()
    os.execute(("tmux kill-session -t %s 2>/dev/null"):format(session))
    os.remove(history)
  end)

  it("prints the value of an expression", function ()
    keys("6 * 7", "Enter")
    assert.matches("lmp> 6 %* 7\n42\n", wait_for("42"))
  end)

  it("reads a statement over several lines", function ()
    keys("local t = {", "Enter", "answer = 41 + 1 }", "Enter")
    keys("print(type(lmp.analyze))", "Enter")
    assert.matches(">> answer = 41 %+ 1 }", wait_for("function"))
  end)

  it("completes API names with Tab", function ()
    keys("lmp.compute_fl", "Tab")
    assert.matches("lmp> lmp.compute_flops", wait_for("lmp.compute_flops"))
    keys("C-u")
  end)

  it("completes module class names inside a string", function ()
    keys("'torch.nn.modules.linear.Li", "Tab")
    assert.matches("torch.nn.modules.linear.Linear", wait_for("torch.nn.modules.linear.Linear"))
    keys("C-u")
  end)

  it("interrupts a loop with Ctrl-C and keeps the session", function ()
    keys("while true do end", "Enter")
    os.execute("sleep 0.3")
    keys("C-c")
    assert.matches("interrupted!", wait_for("interrupted!"))
    keys("'still here'", "Enter")
    assert.matches('"still here"', wait_for('"still here"'))
  end)

  it("leaves on Ctrl-D and keeps the history", function ()
    keys("C-d")
    for _ = 1, 100 do
      if not os.execute(("tmux has-session -t %s 2>/dev/null"):format(session)) then break end
      os.execute("sleep 0.05")
    end
    assert.is_falsy(os.execute(("tmux has-session -t %s 2>/dev/null"):format(session)))
    local f = assert(io.open(history))
    local text = f:read("a")
    f:close()
    assert.matches("6\\040*\\0407", text, 1, true)
  end)
end)
