#include <gtest/gtest.h>

#include <chrono>
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

TEST(HtmlParser, DeepNestingIsFlattenedQuicklyOnASmallStack) {
  // gumbo alone: quadratic time in the depth (about 20 s for 40 000 <div>) and a recursive free
  // that overflows this stack. Both shapes reach that depth: open elements, and formatting
  // elements closed by each </p> and re-opened by the next paragraph.
  std::string divs;
  for (int i = 0; i < 60000; ++i) divs += "<div>";
  divs += "<p>deep text</p>";
  std::string formatting;
  for (int i = 0; i < 30000; ++i) formatting += "<p><b id=" + std::to_string(i) + ">w</p>";
  for (const std::string& html : {divs, formatting}) {
    const auto start = std::chrono::steady_clock::now();
    const auto doc = testing::parse_on_small_stack(std::size_t{512} << 10U, html, "text/html");
    ASSERT_TRUE(doc) << doc.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    EXPECT_FALSE(doc->model.blocks.empty());
  }
  EXPECT_EQ(dump(testing::parse_bytes(divs, "text/html")->model), "P:0:deep text\n");
}

TEST(HtmlParser, FlatteningKeepsTheTextOfTheDroppedElements) {
  std::string html;
  for (int i = 0; i < 400; ++i) html += "<span><i>w" + std::to_string(i) + " ";
  html += "<p>end</p><script>var hidden = 1;</script><style>p { }</style>";
  const auto doc = parse_bytes(html, "text/html");
  ASSERT_TRUE(doc) << doc.error().message;
  const std::string text = dump(doc->model);
  EXPECT_NE(text.find("w0 w1 "), std::string::npos) << text;
  EXPECT_NE(text.find(" w399"), std::string::npos) << text;
  // The <p> is one of the flattened tags: its text joins the running paragraph.
  EXPECT_NE(text.find(" w399 end\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("hidden"), std::string::npos) << text;  // scripts stay scripts
  EXPECT_EQ(text.find("p { }"), std::string::npos) << text;
}

TEST(HtmlParser, LongFlatPagesKeepTheirStructure) {
  // Unclosed <p>, <li>, <td> and repeated unclosed <font> nest nothing: no tag is dropped.
  std::string html = "<ul>";
  for (int i = 0; i < 2000; ++i) html += "<li><font color=red>item";
  html += "</ul><table>";
  for (int i = 0; i < 2000; ++i) html += "<tr><td><b>c<td>d";
  html += "</table>";
  for (int i = 0; i < 2000; ++i) html += "<p><font size=2>para";
  const auto doc = parse_bytes(html, "text/html");
  ASSERT_TRUE(doc) << doc.error().message;
  std::size_t items = 0;
  std::size_t paras = 0;
  for (const auto& block : doc->model.blocks) {
    if (block.kind == BlockKind::kListItem && block.text == "item") ++items;
    if (block.kind == BlockKind::kParagraph && block.text == "para") ++paras;
  }
  EXPECT_EQ(items, 2000U);
  EXPECT_EQ(paras, 2000U);
}

}  // namespace
}  // namespace enkisys::rag
