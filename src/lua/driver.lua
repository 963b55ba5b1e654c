-- The driver of a lua stage's state (src/lua/, docs/internals/lua.md). Compiled into ipfixd
-- and run once per state, before the script, with what the C side hands it:
--   view  a lightuserdata: struct ixd_lua_view (lua_internal.h), shared with C
--   jit   true: records get an FFI type per layout with compiled getters; false: one
--         generic type whose fields C reads (the interpreter runs C faster than FFI code)
--   C     the C functions of record.c
--   env   the script's environment
-- It returns the functions C calls. The script never sees this chunk's locals: nothing it is
-- given leads to them (ffi stays here, cdata metatables are protected).
local view, jit_on, C, env = ...

local ffi = require("ffi")
local bit = require("bit")
local type, error, rawget, select, tostring = type, error, rawget, select, tostring
local floor = math.floor
local band, rshift, bor, lshift = bit.band, bit.rshift, bit.bor, bit.lshift
local format = string.format

ffi.cdef [[
struct ixd_lua_slot {
    uint8_t *data;
    const uint16_t *offsets;
    const uint16_t *lengths;
    uint32_t length;
    uint16_t layout;
    uint8_t own;
    uint8_t pad;
};
struct ixd_lua_view {
    uint32_t count;
    uint32_t used;
    uint32_t size;
    uint32_t pad;
    uint8_t *buf;
    double *counters;
    uint16_t dropped[256];
    struct ixd_lua_slot slots[256];
};
struct ixd_rec { const uint16_t _; };
struct ixd_batch_proxy { const uint8_t _; };
struct ixd_counter { const uint16_t _; };
]]

local V = ffi.cast("struct ixd_lua_view *", view)
local S = V.slots
local CNT = V.counters
local index, newindex, get, set = C.index, C.newindex, C.get, C.set

-- the memory every record handle refers to: slot numbers, alive as long as the state
local slot_numbers = ffi.new("uint16_t[256]")
for i = 0, 255 do
    slot_numbers[i] = i
end

local function record_string()
    return "record"
end

-- the ctype IDs of record references: what the methods accept as a record
local record_types = {}

local function register(h)
    record_types[tonumber(ffi.typeof(h))] = true
end

-- one generic type for every record: C reads its fields. Interpreted states use C's userdata
-- records instead (C.records), which the interpreter reaches at half the cost.
ffi.metatype("struct ixd_rec", {
    __index = index,
    __newindex = newindex,
    __tostring = record_string,
})
local generic = {}
if jit_on then
    local p = ffi.cast("struct ixd_rec *", slot_numbers)
    for i = 0, 255 do
        generic[i] = p[i]
    end
    register(generic[0])
else
    generic = C.records
end

-- a record's slot, for C: the number of a reference, or the userdata itself (C checks it)
local function slot_of(r)
    local t = type(r)
    if t == "cdata" and record_types[tonumber(ffi.typeof(r))] then
        return r._
    elseif t == "userdata" then
        return r
    end
    error("not a record", 3)
end

local sampling, remove, fields = C.sampling_rate, C.remove, C.fields
local methods = {
    sampling_rate = function(r) return sampling(slot_of(r)) end,
    remove = function(r, k) return remove(slot_of(r), k) end,
    fields = function(r) return fields(slot_of(r)) end,
}

-- ---- per-layout types (JIT) ----

local handles = {} -- layout id -> { [slot] = handle }

-- copies a slot's record into the stage's buffer before its first change
-- copies every record of the batch into the stage's buffer at the first change of one: a
-- script that changes a record mostly changes them all, and one C call per batch costs less
-- in compiled code than a copy per record
local copy_all = ffi.cast("int (*)(struct ixd_lua_view *)", C.copy_all)

local function own(sl)
    copy_all(V)
    if sl.own == 0 then
        C.full()
    end
end

local T_UNSIGNED, T_SIGNED, T_BOOLEAN, T_TIME_SEC, T_TIME_MSEC = 1, 2, 4, 7, 8
local bswap, cast = bit.bswap, ffi.cast
local u32p = ffi.typeof("uint32_t *")

-- a big-endian 32-bit word at p, unsigned (one load and a byte swap once compiled)
local function be32(p)
    local x = bswap(cast(u32p, p)[0])
    if x < 0 then
        x = x + 4294967296
    end
    return x
end

local function getter(L, key, typ, len, off)
    if off < 0 then
        return nil
    end
    if typ == T_UNSIGNED or typ == T_TIME_SEC or typ == T_TIME_MSEC then
        local scale = typ == T_TIME_SEC and 1000 or 1
        if len == 1 then
            return function(s)
                local sl = S[s]
                if sl.layout ~= L then return get(s, key) end
                return sl.data[off]
            end
        elseif len == 2 then
            return function(s)
                local sl = S[s]
                if sl.layout ~= L then return get(s, key) end
                local d = sl.data
                return d[off] * 256 + d[off + 1]
            end
        elseif len == 4 then
            return function(s)
                local sl = S[s]
                if sl.layout ~= L then return get(s, key) end
                return be32(sl.data + off) * scale
            end
        elseif len == 8 then
            return function(s)
                local sl = S[s]
                if sl.layout ~= L then return get(s, key) end
                local d = sl.data + off
                local hi = be32(d)
                if hi >= 2097152 then return get(s, key) end -- past 2^53: exact as a uint64
                return hi * 4294967296 + be32(d + 4)
            end
        end
        return nil
    end
    if typ == T_BOOLEAN and len == 1 then
        return function(s)
            local sl = S[s]
            if sl.layout ~= L then return get(s, key) end
            local v = sl.data[off]
            if v == 1 then return true elseif v == 2 then return false end
            return v
        end
    end
    return nil
end

local function setter(L, key, typ, len, off)
    if off < 0 or typ ~= T_UNSIGNED or (len ~= 1 and len ~= 2 and len ~= 4 and len ~= 8) then
        return nil
    end
    local max = len == 8 and 9007199254740991 or 2 ^ (8 * len) - 1
    return function(s, v)
        local sl = S[s]
        if sl.layout ~= L or type(v) ~= "number" or v < 0 or v > max or v % 1 ~= 0 then
            return set(s, key, v)
        end
        if sl.own == 0 then own(sl) end
        local d = sl.data + off
        if len == 1 then
            d[0] = v
        elseif len == 2 then
            d[0] = rshift(v, 8)
            d[1] = v
        elseif len == 4 then
            cast(u32p, d)[0] = bswap(v)
        else
            local hi = floor(v / 4294967296)
            local w = cast(u32p, d)
            w[0] = bswap(hi)
            w[1] = bswap(v - hi * 4294967296)
        end
    end
end

-- C describes a new layout: { {key, type, length, offset (-1: read by C)}, ... }
local function layout(id, fields)
    local getters, setters = {}, {}
    for i = 1, #fields do
        local f = fields[i]
        local key, typ, len, off = f[1], f[2], f[3], f[4]
        if getters[key] == nil then
            getters[key] = getter(id, key, typ, len, off) or false
            setters[key] = setter(id, key, typ, len, off) or false
        end
    end
    local name = format("struct ixd_rec_%d", id)
    ffi.cdef(name .. " { const uint16_t _; };")
    ffi.metatype(name, {
        __index = function(r, k)
            local g = getters[k]
            if g then return g(r._) end
            return get(r._, k)
        end,
        __newindex = function(r, k, v)
            local f = setters[k]
            if f then return f(r._, v) end
            return set(r._, k, v)
        end,
        __tostring = record_string,
    })
    local p = ffi.cast(name .. " *", slot_numbers)
    local h = {}
    for i = 0, 255 do
        h[i] = p[i]
    end
    register(h[0])
    handles[id] = h
end

-- ---- a batch ----

local count, nd, gen = 0, 0, 0
local dropped = {} -- the slots dropped in this call, 1..nd
local mark = {}    -- slot -> gen when dropped by on_batch

local function handle(i)
    if jit_on then
        local lay = S[i].layout
        local h = handles[lay]
        if h then return h[i] end
    end
    return generic[i]
end

local VD = V.dropped

-- the slots dropped: an FFI array C reads where the JIT compiles the stores, a table where the
-- interpreter runs (its FFI stores cost more than C's reads of the table)
local function note_drop(i)
    if jit_on then
        VD[nd] = i
        nd = nd + 1
    else
        nd = nd + 1
        dropped[nd] = i
    end
end

local function drop(i)
    if mark[i] ~= gen then
        mark[i] = gen
        note_drop(i)
    end
end

local batch_methods = {
    drop = function(b, i)
        if type(i) ~= "number" or i < 1 or i > count or i % 1 ~= 0 then
            error("batch:drop wants a record number from 1 to #batch", 2)
        end
        drop(i - 1)
    end,
    dropped = function(b, i)
        if type(i) ~= "number" or i < 1 or i > count then
            return false
        end
        return mark[i - 1] == gen
    end,
}

ffi.metatype("struct ixd_batch_proxy", {
    __len = function() return count end,
    __index = function(b, k)
        if type(k) == "number" then
            if k >= 1 and k <= count and k % 1 == 0 then
                return handle(k - 1)
            end
            return nil
        end
        return batch_methods[k]
    end,
    __newindex = function()
        error("a batch cannot be assigned to", 2)
    end,
    __tostring = function() return "batch" end,
})
local the_batch = ffi.new("struct ixd_batch_proxy")

local function each_record(f)
    if jit_on then
        local last, hl = -1, nil
        for i = 0, count - 1 do
            local lay = S[i].layout
            if lay ~= last then
                hl = handles[lay] or generic
                last = lay
            end
            if f(hl[i]) == false then
                VD[nd] = i
                nd = nd + 1
            end
        end
    else
        for i = 0, count - 1 do
            if f(generic[i]) == false then
                nd = nd + 1
                dropped[nd] = i
            end
        end
    end
end

-- the same, past the records on_batch dropped
local function each_kept_record(f)
    for i = 0, count - 1 do
        if mark[i] ~= gen and f(handle(i)) == false then
            note_drop(i)
        end
    end
end

-- one batch of n records in the slots: returns how many were dropped (their slots in D)
local function run(n)
    count, nd, gen = n, 0, gen + 1
    local on_batch, on_record = rawget(env, "on_batch"), rawget(env, "on_record")
    if on_batch then
        on_batch(the_batch)
    end
    if on_record then
        if nd > 0 then
            each_kept_record(on_record)
        else
            each_record(on_record)
        end
    end
    count = 0
    return nd
end

-- ---- counters: ipfixd.counter(name) ----

local counter_type = ffi.typeof("struct ixd_counter")

-- the counter's index: only a counter has one (the methods can be called with anything, and
-- an index from elsewhere would reach past the counters)
local function counter_of(c)
    if not ffi.istype(counter_type, c) then
        error("not a counter", 3)
    end
    return c._
end

local counter_methods = {
    add = function(c, n)
        local i = counter_of(c)
        if type(n) ~= "number" or n < 0 then
            error("counter:add wants a number >= 0", 2)
        end
        CNT[i] = CNT[i] + n
    end,
    inc = function(c)
        local i = counter_of(c)
        CNT[i] = CNT[i] + 1
    end,
    value = function(c)
        return CNT[counter_of(c)]
    end,
}
ffi.metatype("struct ixd_counter", {
    __index = counter_methods,
    __newindex = function() error("a counter cannot be assigned to", 2) end,
    __tostring = function() return "counter" end,
})
local function counter(i)
    return ffi.new("struct ixd_counter", i)
end

-- ---- exact 64-bit values ----

local function u64(hi, lo)
    return ffi.new("uint64_t", hi) * 4294967296 + lo
end

local function i64(hi, lo)
    return ffi.new("int64_t", ffi.new("uint64_t", hi) * 4294967296 + lo)
end

-- ---- the script's hooks ----

local function tick(now)
    local f = rawget(env, "on_tick")
    if f then f(now) end
end

local function template(t)
    local f = rawget(env, "on_template")
    if f then f(t) end
end

local function init(settings)
    local f = rawget(env, "init")
    if f then f(settings) end
end

return {
    run = run,
    dropped = dropped,
    methods = methods,
    layout = layout,
    counter = counter,
    u64 = u64,
    i64 = i64,
    tick = tick,
    template = template,
    init = init,
}
