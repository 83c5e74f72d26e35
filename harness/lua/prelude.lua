-- edgebench's Lua prelude: runs in each scenario's fresh state before the scenario file.
--
-- It defines the scenario API (scenarios/README.md) and no other globals:
--   scenario {}                                   the scenario table (returned by the file)
--   variant {}                                    optional: a variant that remembers its line
--   dataset.idx {} / .npy {} / .csv {} / .random {}
--   option(name, default, help)                   a value the command line may --set
--
-- The constructors only mark tables and record where they were called (file:line); all
-- checking happens in C (harness/scenario_read.c) once the file has run, so that every error
-- has the same shape.  The harness passes a private table as the chunk's argument and keeps
-- it in the registry (never in _G): constructors record into it, the C side reads it.
local private = ...

local type, error, tostring, tonumber, select = type, error, tostring, tonumber, select
local setmetatable, getinfo = setmetatable, debug.getinfo
local format = string.format

-- Weak keys: marks never keep a user's table alive.
local marks = setmetatable({}, { __mode = "k" })
private.marks = marks
private.options = {}  -- declared options, in declaration order
private.declared = {} -- name -> the same entries
local settings = private.settings or {}

-- Marks `t` as made by `what` (e.g. "dataset", kind "idx") at the caller's caller's line.
-- A constructor reached by a tail call (`return scenario { ... }`) has no caller frame left;
-- then line is left nil and the harness finds the call in the file's text.
local function mark(t, what, kind)
  local info = getinfo(3, "Sl")
  local m = { what = what, kind = kind }
  if info and info.what ~= "C" and info.currentline and info.currentline > 0 then
    m.source, m.line = info.source, info.currentline
  end
  marks[t] = m
  if what == "scenario" then private.last_scenario = t end
  return t
end

local function constructor(what, kind)
  local label = kind and (what .. "." .. kind) or what
  return function(t, ...)
    if type(t) ~= "table" or select("#", ...) > 0 then
      error(format("%s expects one table, as in %s { ... } (got %s)", label, label, type(t)), 2)
    end
    mark(t, what, kind) -- not a tail call: mark() counts this frame
    return t
  end
end

scenario = constructor("scenario")
variant = constructor("variant")
dataset = {
  idx = constructor("dataset", "idx"),
  npy = constructor("dataset", "npy"),
  csv = constructor("dataset", "csv"),
  random = constructor("dataset", "random"),
}

local truths = { ["true"] = true, yes = true, on = true, ["1"] = true,
                 ["false"] = false, no = false, off = false, ["0"] = false }

-- Converts a --set text to the type of the option's default; nil when it does not parse.
local function convert(text, kind)
  if kind == "number" then
    return tonumber(text)
  elseif kind == "boolean" then
    return truths[text:lower()]
  end
  return text
end

function option(name, default, help)
  if type(name) ~= "string" or not name:match("^[%a_][%w_.%-]*$") then
    error(format("option(name, default, help): name must be a string of letters, digits, " ..
                 "'_', '-' or '.' (got %s)", type(name) == "string" and "'" .. name .. "'"
                 or type(name)), 2)
  end
  local kind = type(default)
  if kind ~= "number" and kind ~= "boolean" and kind ~= "string" then
    error(format("option '%s' needs a default value (a number, a boolean or a string), so that " ..
                 "--set %s=VALUE can be typed (got %s)", name, name, kind), 2)
  end
  if help ~= nil and type(help) ~= "string" then
    error(format("option '%s': help must be a string (got %s)", name, type(help)), 2)
  end
  local entry = private.declared[name]
  if entry then
    if entry.type ~= kind then
      error(format("option '%s' is declared twice, as a %s and as a %s", name, entry.type, kind), 2)
    end
    return entry.value
  end
  local value, text = default, settings[name]
  if text ~= nil then
    value = convert(text, kind)
    if value == nil then
      error(format("--set %s=%s: option '%s' takes a %s%s (its default is %s)", name, text,
                   name, kind, kind == "boolean" and " (true/false, yes/no, on/off, 1/0)" or "",
                   tostring(default)), 2)
    end
  end
  entry = { name = name, default = default, help = help or "", type = kind, value = value }
  private.options[#private.options + 1] = entry
  private.declared[name] = entry
  return value
end
