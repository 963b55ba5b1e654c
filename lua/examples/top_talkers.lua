-- Counts octets per source address and, once a window ends, emits the top talkers as records
-- of their own: sourceIPv4Address (or sourceIPv6Address), octetDeltaCount, packetDeltaCount,
-- flowStartMilliseconds and flowEndMilliseconds of the window.
--
--   - lua: {file: top_talkers.lua, settings: {window: 60, top: 10}}
--
-- The records go to the pipeline's outputs beside the flows (put a filter or select after
-- this stage to keep one kind). ipfixd.state keeps the window across reloads (sums past 2^53
-- excepted: 64-bit integers are not kept).

local window, top

function init(settings)
    window = settings.window or 60
    top = settings.top or 10
    local s = ipfixd.state
    s.bytes = s.bytes or {}
    s.packets = s.packets or {}
end

function on_record(r)
    local src = r.sourceIPv4Address or r.sourceIPv6Address
    local octets = r.octetDeltaCount
    if src and octets then
        local s = ipfixd.state
        -- counts past 2^53 come as 64-bit integers: sums of them stay exact
        s.bytes[src] = (s.bytes[src] or 0) + octets
        s.packets[src] = (s.packets[src] or 0) + (r.packetDeltaCount or 0)
    end
end

function on_tick(now)
    local s = ipfixd.state
    s.start = s.start or now
    if now - s.start < window then
        return
    end
    local list = {}
    for src, n in pairs(s.bytes) do
        list[#list + 1] = src
    end
    table.sort(list, function(a, b) return s.bytes[a] > s.bytes[b] end)
    for i = 1, math.min(top, #list) do
        local src = list[i]
        local rec = {
            octetDeltaCount = s.bytes[src],
            packetDeltaCount = s.packets[src],
            flowStartMilliseconds = math.floor(s.start * 1000),
            flowEndMilliseconds = math.floor(now * 1000),
        }
        if src:find(":", 1, true) then
            rec.sourceIPv6Address = src
        else
            rec.sourceIPv4Address = src
        end
        emit(rec)
    end
    ipfixd.counter("windows"):inc()
    s.bytes, s.packets, s.start = {}, {}, now
end
