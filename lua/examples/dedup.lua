-- Drops a flow that another exporter already reported within a window: the same 5-tuple and
-- start time seen by two routers on its path.
--
--   - lua: {file: dedup.lua, settings: {window: 10}}
--
-- The first exporter to report a flow wins; its own later reports (another export of the same
-- flow) pass. Seen flows are forgotten window seconds after they were seen.

local window
local seen, count = {}, 0
local duplicates = ipfixd.counter("duplicates")

function init(settings)
    window = (settings.window or 10) * 1000
end

local function key(r)
    local src = r.sourceIPv4Address or r.sourceIPv6Address
    local dst = r.destinationIPv4Address or r.destinationIPv6Address
    if not src or not dst then
        return nil
    end
    return table.concat({ src, dst, r.sourceTransportPort or 0, r.destinationTransportPort or 0,
        r.protocolIdentifier or 0, tostring(r.flowStartMilliseconds or 0) }, "|")
end

function on_record(r)
    local k = key(r)
    if not k then
        return true
    end
    local now = r["@received"]
    local s = seen[k]
    if s and now - s.at <= window then
        if s.exporter ~= r["@exporter"] then
            duplicates:inc()
            return false
        end
        return true
    end
    if not s then
        count = count + 1
    end
    seen[k] = { exporter = r["@exporter"], at = now }
end

function on_tick(now)
    local limit = now * 1000 - window
    for k, s in pairs(seen) do
        if s.at < limit then
            seen[k] = nil
            count = count - 1
        end
    end
end
