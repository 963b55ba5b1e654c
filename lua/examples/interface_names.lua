-- Adds interface names to flow records, learned from the exporter's options records
-- (interfaceName per ingressInterface, as routers announce them, RFC 7270 style).
--
--   - lua: {file: interface_names.lua}
--
-- Names are kept per exporter and observation domain; a flow whose interface has no name yet
-- passes unchanged. Options records pass too, so that outputs keep them.

local names = {}

local function key(r, index)
    return r["@exporter"] .. "/" .. r["@odid"] .. "/" .. index
end

function on_record(r)
    if r["@options"] then
        local index, name = r.ingressInterface, r.interfaceName
        if index and name then
            names[key(r, index)] = (name:gsub("%z+$", ""))
        end
        return true
    end
    local index = r.ingressInterface
    if index and r.interfaceName == nil then
        local name = names[key(r, index)]
        if name then
            r.interfaceName = name
        end
    end
end
