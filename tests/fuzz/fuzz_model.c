/* libFuzzer target: the model JSON loader. Each input is a model file's text, given to
 *   core.json_decode(text)            the strict JSON parser and its Lua conversion
 *   core.load_model_string(text)      JSON -> validated tree (model.c)
 * and, when it loads, to lmp.analyze (or lmp.generate) with the bundled calculators under
 * one of five sets of inputs (chosen by the input's length), then to the report formatter:
 * the walk (walk.c), the calculators' parameter checks (calc.c) and report.lua see every
 * tree the loader accepts. Expected results: success or an lmp.Error; see fuzz_common.h. */
#include "fuzz_common.h"
#include "fuzz_lua_coverage.h"

static const char DRIVER[] =
    "local core = require 'lmp.core'\n"
    "local lmp = require 'lmp'\n"
    "local function handler(e)\n"
    "  if core.is_error(e) then return e end\n"
    "  return debug.traceback(tostring(e), 2)\n"
    "end\n"
    /* try(f, ...) -> f's results, or nothing after an lmp.Error; other errors go up */
    "local function try(f, ...)\n"
    "  local r = table.pack(xpcall(f, handler, ...))\n"
    "  if r[1] then return table.unpack(r, 2, r.n) end\n"
    "  if core.is_error(r[2]) then return nil end\n"
    "  error(r[2], 0)\n"
    "end\n"
    "local INPUTS = {\n"
    "  {},\n"
    "  { phase = 'decode', seq_len = 1, kv_len = 4095, batch_size = 8, kv_bits = 8 },\n"
    "  { phase = 'train', batch_size = 2, seq_len = 16 },\n"
    "  { batch_size = 1 << 31, seq_len = 1 << 31, kv_len = 1 << 40, w_bits = 64, a_bits = 64, kv_bits = 64 },\n"
    "  'generate',\n"
    "}\n"
    "local FORMATS = {}\n"
    "for i, f in ipairs(require('lmp.report').FORMATS) do FORMATS[i] = f.name end\n"
    "return function (text, variant)\n"
    "  try(core.json_decode, text, 'fuzz.json')\n"
    "  local model = try(core.load_model_string, text, 'fuzz.json')\n"
    "  if not model then return end\n"
    "  assert(math.type(model.layer_count) == 'integer' and model.layer_count >= 1, 'layer_count')\n"
    "  assert(model.basic_layer_count >= 1 and model.basic_layer_count <= model.layer_count, 'basic_layer_count')\n"
    "  assert(model.file == 'fuzz.json', 'file')\n"
    "  local _ = model.model_id, model.config, tostring(model)\n"
    "  local inputs = INPUTS[variant % #INPUTS + 1]\n"
    "  local result\n"
    "  if inputs == 'generate' then\n"
    "    result = try(lmp.generate, model, { prompt_len = 16, new_tokens = 9, w_bits = 4 })\n"
    "  else\n"
    "    result = try(lmp.analyze, model, inputs, { depth = variant % 3 == 0 and 1 or nil })\n"
    "  end\n"
    "  if result then try(lmp.format, result, FORMATS[variant % #FORMATS + 1]) end\n"
    "end\n";

static lua_State *L;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  L = fuzz_new_driver(DRIVER, sizeof DRIVER - 1, "=fuzz_model");
  lua_coverage_start(L);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_getglobal(L, "fuzz_driver");
  lua_pushlstring(L, (const char *)data, size);
  lua_pushinteger(L, (lua_Integer)size);
  fuzz_call(L, 2, 0, "model");
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT); /* models (and their arenas) freed by each run */
  return 0;
}
