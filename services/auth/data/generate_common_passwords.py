#!/usr/bin/env python3
"""Regenerates common-passwords.txt: well-known weak passwords and the patterns people derive
from them. Only entries of 10+ characters are kept, since shorter ones already fail the length
rule. Run: python3 generate_common_passwords.py > common-passwords.txt"""

BASE_WORDS = """
password passw0rd p@ssword p@ssw0rd pass pa55word qwerty qwertyuiop azerty asdfgh asdfghjkl
zxcvbnm letmein welcome welcome1 admin administrator root toor master dragon monkey shadow
sunshine princess football baseball basketball soccer hockey superman batman spiderman
iloveyou trustno1 starwars whatever freedom secret charlie michael jennifer jordan hunter
ranger buster thomas robert daniel andrew joshua matthew george harley pepper ginger
summer winter autumn spring flower cookie cheese chocolate butterfly computer internet
samsung google apple microsoft windows linux ubuntu oracle cisco default changeme
changeit test testing tester guest login access mustang ferrari porsche corvette yankees
lakers cowboys eagles steelers liverpool chelsea arsenal barcelona madrid juventus
killer hello hellokitty lovely loveme babygirl angel angels jesus christ heaven
blessed purple orange banana yellow silver golden diamond crystal matrix phoenix
tigger snoopy pokemon naruto pikachu minecraft fortnite roblox zelda mario
nintendo playstation xbox gaming gamer player soccer1 family friends forever
happy smile money cash rich million qazwsx qweasd qweasdzxc 1q2w3e4r 1qaz2wsx
zaq12wsx abc abcd abcdef abcdefg abcdefgh abcdefghij secure security system server
database postgres mysql sqlserver enkisys company office business manager
student teacher school college university london paris berlin newyork chicago
boston florida texas california america canada mexico brazil france germany
spain italy russia china india japan australia england ireland scotland
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
password1 password12 password123 qwerty123 abc123 admin123 letmein123 welcome123
iloveu loveyou mylove sweetheart darling honey sugar babe baby kitten puppy doggy
tiger lion eagle falcon wolf bear panther jaguar cobra viper
rockstar rocknroll metallica nirvana beatles eminem
hannah jessica ashley amanda sarah nicole michelle melissa stephanie elizabeth
william richard charles joseph christopher anthony david james john
""".split()

SUFFIXES = ["", "1", "12", "123", "1234", "12345", "123456", "!", "1!", "123!", "@123", "01",
            "2024", "2025", "2026"]
# Checks compare lower-cased, so case variants need no entries of their own.
PREFIXES = ["", "my", "the"]

WALKS = [
    "qwertyuiop", "asdfghjkl;", "zxcvbnm,./", "1qaz2wsx3edc", "qazwsxedc", "qazwsxedcrfv",
    "1q2w3e4r5t", "1q2w3e4r5t6y", "q1w2e3r4t5", "zaq1xsw2cde3", "!qaz2wsx", "1qazxsw2",
    "qwertyuiop[]", "asdfghjkl", "poiuytrewq", "lkjhgfdsa", "mnbvcxz", "qwerasdfzxcv",
    "qweasdzxc123", "1234qwer", "qwer1234", "asdf1234", "zxcv1234", "1234asdf", "qwertz123",
    "azertyuiop", "wxcvbn", "ytrewq", "!@#$%^&*()", "!@#$%^&*", "1234567890-=",
    "0987654321", "9876543210", "abcdefghijklmnopqrstuvwxyz", "qwertyqwerty", "asdfasdf",
    "zxczxczxc", "qweqweqwe", "asdasdasd", "zxcasdqwe", "qweasd123"]


def variants(word):
    leet = word.replace("a", "@").replace("o", "0").replace("e", "3").replace("i", "1").replace("s", "$")
    return {word, leet}


def main():
    found = set()
    for w in BASE_WORDS + WALKS:
        for v in variants(w):
            for s in SUFFIXES:
                found.add(v + s)
        for p in PREFIXES:
            found.add(p + w + "123")
        found.add(w + w)
        found.add(w + w[::-1])
    # Digit and letter runs, repeats, dates.
    for n in range(10, 21):
        found.add("".join(str((i + 1) % 10) for i in range(n)))
        found.add("".join(str((9 - i) % 10) for i in range(n)))
        for c in "0123456789abcdefghijklmnopqrstuvwxyz!*.":
            found.add(c * n)
    for pair in ["12", "ab", "01", "69", "qw", "xo", "1a", "a1"]:
        for n in range(5, 11):
            found.add(pair * n)
    for trio in ["123", "abc", "qwe", "asd", "zxc", "789", "321", "007"]:
        for n in range(4, 7):
            found.add(trio * n)
    kept = sorted({p.lower() for p in found if 10 <= len(p) <= 64})
    print("\n".join(kept))


if __name__ == "__main__":
    main()
