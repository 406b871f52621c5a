-- Question intake as a helpdesk sees it on an ordinary day: POST /v1/questions as the integration in $TOKEN, each
-- customer different, each question a few words of a carrier helpdesk's vocabulary (so questions share words and
-- now and then a band, as they do) among words of its own (made-up ones: real questions are written in a far larger
-- vocabulary than this list; drawn from these 110 words alone, hundreds of questions a second in one window chain
-- into chance groups, which is not an ordinary day).
local counter = 0
local token = os.getenv("TOKEN")
local words = {
    "sim", "card", "esim", "activation", "porting", "number", "tariff", "upgrade", "roaming", "spain", "france",
    "invoice", "refund", "charge", "topup", "voucher", "balance", "credit", "paypal", "app", "login", "password",
    "voicemail", "pin", "puk", "blocked", "delivery", "address", "contract", "cancel", "notice", "data", "volume",
    "speed", "slow", "evening", "hotspot", "tethering", "5g", "lte", "signal", "coverage", "village", "calls",
    "dropped", "sms", "mms", "whatsapp", "abroad", "switzerland", "bill", "direct", "debit", "bank", "iban",
    "phone", "iphone", "android", "settings", "apn", "wifi", "calling", "volte", "esim", "qr", "code", "email",
    "customer", "account", "profile", "birthday", "bonus", "points", "friend", "referral", "discount", "student",
    "prepaid", "postpaid", "option", "package", "minutes", "unlimited", "international", "turkey", "poland",
    "netherlands", "italy", "fair", "use", "policy", "limit", "reached", "warning", "message", "spam", "fraud",
    "stolen", "lost", "replacement", "swap", "second", "multisim", "watch", "tablet", "router", "home",
}
local verbs = { "not working", "how do I", "problem with", "question about", "cannot", "where is", "help with" }

function setup(thread)
    thread:set("prefix", tostring(math.random(1, 1e9)))
end

local function madeUp()
    local letters = {}
    for i = 1, math.random(4, 8) do letters[i] = string.char(math.random(97, 122)) end
    return table.concat(letters)
end

local function sentence(n)
    local parts = { verbs[math.random(#verbs)] }
    for i = 1, n do parts[#parts + 1] = (i <= 2) and words[math.random(#words)] or madeUp() end
    return table.concat(parts, " ")
end

request = function()
    counter = counter + 1
    local body = string.format(
        '{"subject":"%s","body":"%s.","customer":{"id":"c-%s-%d","name":"Bench Customer"}}',
        sentence(math.random(3, 5)), sentence(math.random(5, 9)), prefix, counter)
    return wrk.format("POST", "/v1/questions",
        { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end
