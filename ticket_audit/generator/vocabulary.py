"""Word pools for the generated history: taxonomy, customer wording per subcategory, agent styles.

Customer wording is category-specific on purpose: a text classifier can learn the labels, so
planted label noise is detectable the way it is in real histories.
"""

from __future__ import annotations

TAXONOMY: dict[str, list[str]] = {
    "Billing": ["Refund", "Invoice", "Payment failed", "Plan change"],
    "Account": ["Login", "Password reset", "Profile update", "Two-factor"],
    "Technical": ["Bug", "Performance", "Integration", "Data sync"],
    "Shipping": ["Delivery delay", "Damaged item", "Wrong item", "Tracking"],
    "Product": ["How-to", "Feature request", "Compatibility"],
}
CATCH_ALL = "Other"

TEAM_BY_CATEGORY = {
    "Billing": "billing",
    "Account": "accounts",
    "Technical": "tech-support",
    "Shipping": "logistics",
    "Product": "product-experts",
}
TEAMS = sorted(set(TEAM_BY_CATEGORY.values()) | {"frontline"})

PRODUCTS = [
    "Nimbus Router X2",
    "Nimbus Cloud Backup",
    "Nimbus Smart Camera",
    "Nimbus Thermostat",
    "Nimbus Mesh Wi-Fi",
    "Nimbus Doorbell Pro",
    "Nimbus Family Plan",
    "Nimbus Business Suite",
]
CHANNELS = {"email": 0.38, "chat": 0.27, "web": 0.17, "phone": 0.12, "social": 0.06}
PRIORITIES = {"low": 0.25, "normal": 0.5, "high": 0.18, "urgent": 0.07}
LANGUAGES = {"en": 0.9, "de": 0.05, "fr": 0.03, "es": 0.02}

# subcategory -> (subject lines, problem sentences, detail sentences)
CUSTOMER_TEXT: dict[str, tuple[list[str], list[str], list[str]]] = {
    "Refund": (
        ["Refund request", "I want my money back", "Refund for order not received yet"],
        [
            "I returned the {product} two weeks ago and still have not received my refund.",
            "Please refund the last charge for the {product}, I cancelled before renewal.",
            "The refund you promised for my {product} order never arrived on my statement.",
        ],
        [
            "The return label was used and the parcel was delivered to your warehouse.",
            "Your refund policy says five business days and it has been almost three weeks.",
            "I would prefer the refund to go back to the original payment method.",
        ],
    ),
    "Invoice": (
        ["Invoice question", "Wrong VAT on invoice", "Need a copy of my invoice"],
        [
            "The invoice for my {product} subscription shows the wrong company address.",
            "I need a corrected invoice with our VAT number for the {product} purchase.",
            "Can you send me a PDF copy of last month's invoice for the {product}?",
        ],
        [
            "Our accounts payable team cannot process the invoice without the tax number.",
            "The invoice total does not match the price on the checkout page.",
            "Please also include the purchase order reference on the invoice.",
        ],
    ),
    "Payment failed": (
        ["Payment declined", "Card charged twice", "Cannot complete payment"],
        [
            "My card payment for the {product} keeps failing at checkout.",
            "I was charged twice for the {product} subscription this month.",
            "The payment page for the {product} shows an error after I confirm the card.",
        ],
        [
            "My bank says the card is fine and no transaction was blocked on their side.",
            "I tried two different cards and the payment still does not go through.",
            "Please reverse the duplicate charge as soon as possible.",
        ],
    ),
    "Plan change": (
        ["Upgrade my plan", "Downgrade subscription", "Change billing cycle"],
        [
            "I would like to upgrade from the basic plan to the {product}.",
            "Please downgrade my {product} subscription to the cheaper tier.",
            "Can I switch the {product} from monthly to annual billing?",
        ],
        [
            "I want the change to take effect from the next billing date.",
            "Will the unused part of my current plan be credited?",
            "The plan change button in the billing settings does nothing.",
        ],
    ),
    "Login": (
        ["Cannot log in", "Login loop", "Account locked"],
        [
            "I cannot log in to my {product} account since this morning.",
            "After entering my credentials the login page just reloads.",
            "My account got locked after a few failed login attempts.",
        ],
        [
            "I cleared the browser cache and tried a different browser.",
            "The mobile app shows the same login error as the website.",
            "I am sure the email address and the password are correct.",
        ],
    ),
    "Password reset": (
        ["Password reset email missing", "Reset link expired", "Forgot password"],
        [
            "The password reset email for my {product} account never arrives.",
            "The password reset link says it has expired as soon as I open it.",
            "I forgot my password and the reset form does not accept my address.",
        ],
        [
            "I checked the spam folder and there is nothing there.",
            "I requested the reset link three times in the last hour.",
            "Please help me regain access, I need it for work today.",
        ],
    ),
    "Profile update": (
        ["Change email address", "Update my name", "Update company details"],
        [
            "I need to change the email address on my {product} account.",
            "Please update the name on my profile, it was misspelled at signup.",
            "How do I update our company details in the {product} profile?",
        ],
        [
            "The profile page does not let me edit this field.",
            "The old email address belongs to a former employee.",
            "The new details should also appear on future invoices.",
        ],
    ),
    "Two-factor": (
        ["Lost my 2FA device", "Two-factor codes not working", "Disable two-factor"],
        [
            "I lost the phone with my two-factor authenticator for the {product}.",
            "The two-factor codes for my {product} account are always rejected.",
            "How can I disable two-factor authentication on the {product}?",
        ],
        [
            "The time on my phone is set automatically, so it is not a clock issue.",
            "I still have my backup codes but they do not work either.",
            "I need a way to verify my identity without the old device.",
        ],
    ),
    "Bug": (
        ["App crashes", "Error message when saving", "Feature broken after update"],
        [
            "The {product} app crashes every time I open the settings screen.",
            "I get an error message when saving changes in the {product} dashboard.",
            "Since the latest firmware update the {product} schedule feature is broken.",
        ],
        [
            "The error code shown is E-4012 and it happens on every attempt.",
            "I already reinstalled the app and restarted the device.",
            "It worked fine before the update last Tuesday.",
        ],
    ),
    "Performance": (
        ["Very slow", "Device keeps disconnecting", "Lag in the app"],
        [
            "The {product} has become extremely slow over the last few days.",
            "My {product} keeps disconnecting from the network every few minutes.",
            "There is a long lag in the {product} app before the live view loads.",
        ],
        [
            "Speed tests show my internet connection is fine.",
            "The problem is worse in the evening when more devices are online.",
            "Restarting helps for an hour and then it gets slow again.",
        ],
    ),
    "Integration": (
        ["Integration not working", "API returns errors", "Cannot connect to smart home"],
        [
            "The {product} integration with our calendar stopped syncing.",
            "Your API returns a 500 error when we call it from our integration.",
            "I cannot connect the {product} to my smart home assistant.",
        ],
        [
            "We followed the integration guide step by step.",
            "The webhook deliveries show a timeout in the developer console.",
            "Other integrations on the same account keep working.",
        ],
    ),
    "Data sync": (
        ["Data not syncing", "Missing backups", "Sync conflict"],
        [
            "My files are not syncing between the {product} and my laptop.",
            "The {product} says the backup completed but the files are missing.",
            "I keep getting sync conflict copies of the same document on the {product}.",
        ],
        [
            "The last successful sync was four days ago.",
            "I have plenty of free storage left on the account.",
            "Some folders sync and others stay stuck at zero percent.",
        ],
    ),
    "Delivery delay": (
        ["Where is my order", "Delivery late", "Order not arrived"],
        [
            "My {product} order was supposed to arrive last week and is still not here.",
            "The delivery of my {product} has been delayed three times now.",
            "It has been ten days since I ordered the {product} and nothing arrived.",
        ],
        [
            "The courier website has not updated the status for days.",
            "I need the device before the weekend, it is a gift.",
            "Please tell me when the parcel will actually be shipped.",
        ],
    ),
    "Damaged item": (
        ["Item arrived damaged", "Broken on arrival", "Cracked screen on delivery"],
        [
            "The {product} arrived with a cracked case and does not power on.",
            "The box of my {product} was crushed and the device is broken.",
            "My {product} was damaged in transit and the screen is cracked.",
        ],
        [
            "I have photos of the packaging and the damage.",
            "I would like a replacement rather than a refund.",
            "The courier left the parcel outside in the rain.",
        ],
    ),
    "Wrong item": (
        ["Wrong item received", "Received the wrong model", "Order mix-up"],
        [
            "I ordered the {product} but received a completely different product.",
            "The parcel contained the wrong model instead of the {product}.",
            "My order was mixed up and I got someone else's {product} accessories.",
        ],
        [
            "The packing slip shows a different order number.",
            "Please send the correct item and a return label for this one.",
            "I have not opened the wrong item.",
        ],
    ),
    "Tracking": (
        ["Tracking number not working", "No tracking updates", "Tracking link broken"],
        [
            "The tracking number for my {product} order does not work on the courier site.",
            "There have been no tracking updates for my {product} shipment.",
            "The tracking link in the shipping email for my {product} is broken.",
        ],
        [
            "The courier says they never received the parcel.",
            "Can you check with the warehouse whether it actually left?",
            "The shipping confirmation email arrived four days ago.",
        ],
    ),
    "How-to": (
        ["How do I set this up", "Question about setup", "Instructions unclear"],
        [
            "How do I set up the {product} with two user profiles?",
            "The setup instructions for the {product} are unclear about the pairing step.",
            "Where can I find the guide for configuring the {product} schedules?",
        ],
        [
            "I am not very technical, so step by step instructions would help.",
            "The quick start guide in the box skips this part.",
            "I watched the video but it shows an older version of the app.",
        ],
    ),
    "Feature request": (
        ["Feature request", "Suggestion for the app", "Please add dark mode"],
        [
            "It would be great if the {product} supported dark mode in the app.",
            "Please add an export to spreadsheet option to the {product}.",
            "Could the {product} allow sharing access with a guest user?",
        ],
        [
            "Many people in the community forum asked for this too.",
            "Competing products already offer this feature.",
            "This would save our team a lot of manual work every week.",
        ],
    ),
    "Compatibility": (
        ["Is it compatible", "Works with my phone?", "Compatibility question"],
        [
            "Is the {product} compatible with older Android phones?",
            "Will the {product} work with my existing router from another brand?",
            "Does the {product} support the older version of the desktop client?",
        ],
        [
            "I want to be sure before I buy a second unit.",
            "The compatibility list on the website seems outdated.",
            "My operating system is two versions behind the latest.",
        ],
    ),
}

# Vague wording typical of catch-all tickets.
CATCH_ALL_TEXT = (
    ["Question", "Help needed", "Issue"],
    [
        "I have a question about the {product}.",
        "Something is not right with the {product}, can someone look into it?",
        "I need help with the {product}.",
    ],
    ["Please get back to me.", "Thanks in advance.", "Let me know what you need from me."],
)

OPENERS = ["Hello,", "Hi there,", "Hi support team,", "Good morning,", "", "Dear Nimbus team,"]
CLOSERS = ["Thanks.", "Thank you in advance.", "Regards.", "", "Kind regards.", "Cheers."]

FOREIGN_DESCRIPTIONS = {
    "de": "Guten Tag, ich habe ein Problem mit dem {product}. Bitte helfen Sie mir schnell.",
    "fr": "Bonjour, j'ai un problème avec le {product}. Merci de m'aider rapidement.",
    "es": "Hola, tengo un problema con el {product}. Por favor, ayúdenme pronto.",
}

# Agent reply styles: a greeting, a body builder key and a sign-off. Personas mix them
# so replies vary the way they do on real desks.
GREETINGS = ["Hi {first_name},", "Hello {first_name},", "Dear customer,", "Hi,", ""]
SIGNOFFS = [
    "Best regards,\n{agent} | Nimbus Support",
    "Cheers, {agent}",
    "Kind regards,\nNimbus Support Team\nsupport@nimbus-support.example",
    "",
    "Thanks,\n{agent}\n--\nNimbus Support | +1 800 555 0100",
]
MACRO_REPLIES = {
    "Billing": "Thank you for contacting Nimbus Billing. We have reviewed your account and "
    "processed the request. You will see the change within 5-7 business days.",
    "Account": "Thanks for reaching out. For your security we have sent a verification link "
    "to the address on file. Please follow it to regain access to your account.",
    "Technical": "Thank you for the report. Please update to the latest version and restart "
    "the device. If the problem persists, reply with the error code you see.",
    "Shipping": "We are sorry for the trouble with your delivery. We have contacted the courier "
    "and will update you within 48 hours with the new delivery date.",
    "Product": "Thanks for your question. You can find step-by-step instructions in our help "
    "center under Getting Started. Let us know if anything is unclear.",
    CATCH_ALL: "Thank you for contacting Nimbus Support. Could you share more details so we "
    "can route your request to the right team?",
}
FREEFORM_REPLIES = [
    "I looked into this for you and {fix}. {followup}",
    "Sorry about the hassle! {fix}. {followup}",
    "Thanks for the details. I checked with the team and {fix}. {followup}",
    "Got it. {fix}. {followup}",
]
FIXES = [
    "the issue is now fixed on our side",
    "I have escalated this to our specialists",
    "I reset the configuration on your account",
    "a replacement has been arranged",
    "the charge has been reversed",
    "your account is unlocked again",
    "the shipment was re-routed",
]
FOLLOWUPS = [
    "Let me know if you need anything else.",
    "Feel free to reply if it happens again.",
    "You should see the update within a day.",
    "",
]
TONE_MARKERS = ["Sorry", "Unfortunately", "Great news", "Apologies"]

AGENTS = [
    "Alex M.",
    "Priya S.",
    "Tom B.",
    "Chen L.",
    "Maria G.",
    "Jonas K.",
    "Fatima R.",
    "Sam W.",
    "Lena H.",
    "Diego P.",
]

FIRST_NAMES = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Margaret",
    "Steven",
    "Sandra",
    "Olivia",
    "Lucas",
    "Emma",
    "Noah",
    "Sophie",
    "Mateo",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
]
STREETS = ["Maple", "Oak", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hill", "Park", "Sunset"]
STREET_SUFFIXES = ["Street", "Avenue", "Road", "Lane", "Drive", "Boulevard"]
CITIES = [
    ("Springfield", "IL", "62704"),
    ("Austin", "TX", "78701"),
    ("Portland", "OR", "97205"),
    ("Denver", "CO", "80202"),
    ("Madison", "WI", "53703"),
    ("Raleigh", "NC", "27601"),
]
EMAIL_DOMAINS = ["example.com", "example.org", "mail.example.net", "inbox.example"]

# The company's own contact points and product names: allow-listed, never PII.
COMPANY_ALLOW_LIST = [
    "support@nimbus-support.example",
    "+1 800 555 0100",
    "Nimbus Support",
    *PRODUCTS,
]
