-- Question intake: POST /v1/questions as the integration in $TOKEN, each body different.
local counter = 0
local token = os.getenv("TOKEN")

function setup(thread)
    thread:set("prefix", tostring(math.random(1, 1e9)))
end

request = function()
    counter = counter + 1
    local body = string.format(
        '{"subject":"My SIM card shows no service (%s-%d)","body":"Since this morning my phone says no service.",' ..
        '"customer":{"id":"c-%s-%d","name":"Bench Customer"}}', prefix, counter, prefix, counter)
    return wrk.format("POST", "/v1/questions",
        { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end
