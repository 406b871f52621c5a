-- The baseline: POST /rows with a body of the same size as an intake request.
local counter = 0
request = function()
    counter = counter + 1
    local body = string.format(
        '{"subject":"My SIM card shows no service (%d)","body":"Since this morning my phone says no service."}', counter)
    return wrk.format("POST", "/rows", { ["Content-Type"] = "application/json" }, body)
end
