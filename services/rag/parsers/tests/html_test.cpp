#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "enkisys/rag/parse.hpp"
#include "fixtures.hpp"

namespace enkisys::rag {
namespace {

using testing::dump;
using testing::parse_bytes;

TEST(HtmlParser, BlocksHeadingsAndDroppedElements) {
  const std::string html = R"(<!DOCTYPE html><html><head><title> Guide &amp; Notes </title>
<style>p { color: red }</style><script>var secret = "do not index";</script></head>
<body><nav><a href="/">Home</a> menu</nav>
<h1>Main <em>title</em></h1><p>First &eacute;t&eacute; &#8212; para.</p>
<div>Loose <b>div</b> text<p>inner para</p>tail</div>
<h3>Steps</h3><ul><li>one</li><li>two<ul><li>deep</li></ul></li></ul>
<pre>  keep
    layout</pre>
<table><tr><th>Name</th><th>Port</th></tr><tr><td>auth</td><td>5002</td></tr></table>
<blockquote>quoted<br>line</blockquote><noscript>enable js</noscript><template>tpl</template>
<footer>copyright</footer></body></html>)";
  const auto doc = parse_bytes(html, "text/html");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(dump(doc->model),
            "H:1:Main title\n"
            "P:0:First \xC3\xA9t\xC3\xA9 \xE2\x80\x94 para.\n"
            "P:0:Loose div text\n"
            "P:0:inner para\n"
            "P:0:tail\n"
            "H:3:Steps\n"
            "L:0:one\n"
            "L:0:two\n"
            "L:0:deep\n"
            "C:0:  keep\n    layout\n"
            "T:0:Name | Port\nauth | 5002\n"
            "P:0:quoted line\n");
  EXPECT_EQ(doc->model.title, "Guide & Notes");
}

TEST(HtmlParser, RecoversFromBadNesting) {
  const auto doc = parse_bytes("<p>one<p>two <b>bold <i>both</b> after</i><li>item</div></span>",
                               "", "page.html");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_NE(dump(doc->model).find("P:0:one\n"), std::string::npos) << dump(doc->model);
  EXPECT_NE(dump(doc->model).find("bold both after"), std::string::npos) << dump(doc->model);
  EXPECT_NE(dump(doc->model).find("L:0:item\n"), std::string::npos) << dump(doc->model);
}

TEST(HtmlParser, CharsetFromMetaThenDeclaredType) {
  const std::string latin1 =
      "<html><head><meta charset=\"iso-8859-1\"></head><body><p>caf\xE9</p></body></html>";
  const auto meta = parse_bytes(latin1, "text/html");
  ASSERT_TRUE(meta) << meta.error().message;
  EXPECT_EQ(dump(meta->model), "P:0:caf\xC3\xA9\n");
  const std::string http_equiv =
      "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
      "charset=ISO-8859-1\"></head><body><p>na\xEFve</p></body></html>";
  EXPECT_EQ(dump(parse_bytes(http_equiv, "text/html")->model), "P:0:na\xC3\xAFve\n");
  // The declared charset wins over the meta (the bytes are windows-1252).
  const auto declared =
      parse_bytes("<meta charset=\"utf-8\"><p>\x93hi\x94</p>", "text/html; charset=windows-1252");
  ASSERT_TRUE(declared) << declared.error().message;
  EXPECT_EQ(dump(declared->model), "P:0:\xE2\x80\x9Chi\xE2\x80\x9D\n");
  // No charset anywhere: UTF-8, a stray byte becomes U+FFFD (the rest is not re-read as Latin-1).
  EXPECT_EQ(dump(parse_bytes("<p>caf\xE9 na\xC3\xAFve</p>", "text/html")->model),
            "P:0:caf\xEF\xBF\xBD na\xC3\xAFve\n");
  const auto unknown = parse_bytes("<p>x</p>", "text/html; charset=nope-1");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "unsupported_charset");
}

TEST(HtmlParser, ExternalEntitiesAreNeverRead) {
  const auto secret = testing::write_temp("secret.txt", "TOP-SECRET-HTML");
  const std::string html = "<!DOCTYPE html [<!ENTITY xxe SYSTEM \"file://" + secret.string() +
                           "\">]><html><body><p>before &xxe; after</p></body></html>";
  const auto doc = parse_bytes(html, "text/html");
  ASSERT_TRUE(doc) << doc.error().message;
  const std::string text = dump(doc->model);
  EXPECT_EQ(text.find("TOP-SECRET"), std::string::npos) << text;
  EXPECT_NE(text.find("before"), std::string::npos) << text;
}

TEST(HtmlParser, OnlyScriptsIsEmpty) {
  const auto doc =
      parse_bytes("<html><head><title>T</title><script>x()</script></head></html>", "text/html");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, "empty_document");
}

}  // namespace
}  // namespace enkisys::rag
