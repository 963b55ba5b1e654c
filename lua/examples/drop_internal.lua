-- Drops flows between two internal addresses: traffic that never leaves the site.
--
--   - lua: {file: drop_internal.lua,
--           settings: {internal: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]}}
--
-- IPv4 only; records without IPv4 addresses pass. The prefixes are compiled once, in init,
-- into (network, mask) pairs compared with bit operations.

local nets = {}

local function parse(cidr)
    local a, b, c, d, len = cidr:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)/(%d+)$")
    if not a then
        error("not an IPv4 prefix: " .. tostring(cidr))
    end
    len = tonumber(len)
    local mask = len == 0 and 0 or bit.lshift(-1, 32 - len)
    local net = bit.bor(bit.lshift(a, 24), bit.lshift(b, 16), bit.lshift(c, 8), d)
    return bit.band(net, mask), mask
end

local function address(text)
    local a, b, c, d = text:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    return bit.bor(bit.lshift(a, 24), bit.lshift(b, 16), bit.lshift(c, 8), d)
end

local function internal(text)
    if text == nil then
        return false
    end
    local x = address(text)
    for i = 1, #nets do
        if bit.band(x, nets[i][2]) == nets[i][1] then
            return true
        end
    end
    return false
end

function init(settings)
    local list = settings.internal or { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16" }
    for _, cidr in ipairs(list) do
        local net, mask = parse(cidr)
        nets[#nets + 1] = { net, mask }
    end
end

function on_record(r)
    return not (internal(r.sourceIPv4Address) and internal(r.destinationIPv4Address))
end
