// limit_html_nesting: a light scan of HTML tags that estimates the depth of the tree the HTML5
// tree builder (gumbo) will make and removes the start tags that would pass the limit. gumbo's
// time grows with the square of the depth (scope checks walk the stack of open elements) and it
// frees its tree recursively: 40 000 nested <div> take 20 s, 10 000 overflow a 256 KiB stack.
// The estimate follows the rules that make real pages shallow (implied end tags of p, li, dd,
// dt, tr, td, th, option; void elements; raw text of script and style) and counts formatting
// elements closed implicitly, which the builder re-opens later, so that it does not fall short
// of gumbo's depth on hostile input; on ordinary pages it is close to the real depth. Those
// dangling elements are also cloned into every later paragraph: past 16 of them, further
// formatting start tags are removed too.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers_internal.hpp"

namespace enkisys::rag::parsers {
namespace {

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool void_element(std::string_view n) {
  return one_of(
      n, {"area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
          "param", "source", "track", "wbr", "image", "basefont", "bgsound", "frame"});
}

bool raw_text(std::string_view n) {
  return one_of(n,
                {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"});
}

bool formatting(std::string_view n) {
  return one_of(n, {"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike",
                    "strong", "tt", "u"});
}

// Elements that bound a scope search and mark the list of formatting elements.
bool scope_boundary(std::string_view n) {
  return one_of(
      n, {"applet", "caption", "html", "table", "td", "th", "marquee", "object", "template"});
}

// End tags of these close elements in table scope.
bool table_part(std::string_view n) {
  return one_of(n, {"table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption"});
}

bool closes_p(std::string_view n) {
  return one_of(n, {"address", "article", "aside", "blockquote", "center",     "details", "dialog",
                    "dir",     "div",     "dl",    "fieldset",   "figcaption", "figure",  "footer",
                    "header",  "hgroup",  "main",  "menu",       "nav",        "ol",      "p",
                    "section", "summary", "ul",    "h1",         "h2",         "h3",      "h4",
                    "h5",      "h6",      "pre",   "listing",    "form",       "table",   "hr",
                    "li",      "dd",      "dt",    "plaintext",  "xmp"});
}

// The builder clones every dangling formatting element into each new paragraph: their number
// is a factor of its time (256 made 30 000 short paragraphs take 4 s).
constexpr std::size_t kMaxDangling = 16;

struct Open {
  std::string name;
  std::size_t dangling_at_push;  // markers: formatting elements dangling when it opened
};

class DepthEstimate {
 public:
  std::size_t depth() const { return stack_.size() + dangling_.size(); }
  std::size_t dangling() const { return dangling_.size(); }

  void start(const std::string& name, std::string_view key) {
    if (closes_p(name)) pop_through({"p"}, {"button"});
    if (name == "li") pop_through({"li"}, {"ul", "ol"});
    if (name == "dd" || name == "dt") pop_through({"dd", "dt"}, {"dl"});
    if (name == "tr") pop_through({"tr"}, {}, true);
    if (name == "td" || name == "th") pop_through({"td", "th"}, {}, true);
    if (name == "thead" || name == "tbody" || name == "tfoot") {
      pop_through({"thead", "tbody", "tfoot"}, {}, true);
    }
    if (name == "option" || name == "optgroup") pop_through({"option"}, {"select"});
    if (name == "optgroup") pop_through({"optgroup"}, {"select"});
    if (name == "a") pop_through({"a"}, {});
    if (name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !stack_.empty() &&
        stack_.back().name.size() == 2 && stack_.back().name[0] == 'h') {
      pop();
    }
    stack_.push_back({name, dangling_.size()});
    keys_.emplace_back(key);
  }

  void end(const std::string& name) {
    if (name == "body" || name == "html") return;  // the builder keeps them (and their content)
    if (formatting(name) || name == "form") {
      // The adoption agency (formatting) and </form> remove that element only.
      for (std::size_t k = stack_.size(); k-- > 0;) {
        if (stack_[k].name == name) {
          stack_.erase(stack_.begin() + static_cast<std::ptrdiff_t>(k));
          keys_.erase(keys_.begin() + static_cast<std::ptrdiff_t>(k));
          return;
        }
      }
      for (std::size_t k = dangling_.size(); k-- > 0;) {
        if (dangling_names_[k] == name) {
          dangling_.erase(dangling_.begin() + static_cast<std::ptrdiff_t>(k));
          dangling_names_.erase(dangling_names_.begin() + static_cast<std::ptrdiff_t>(k));
          return;
        }
      }
      return;
    }
    if (name == "li") {
      pop_through({name}, {"ul", "ol"});
    } else {
      pop_through({name}, {}, table_part(name));
    }
  }

  bool in_foreign() const {
    return std::any_of(stack_.begin(), stack_.end(),
                       [](const Open& o) { return o.name == "svg" || o.name == "math"; });
  }

 private:
  void pop() {
    Open top = std::move(stack_.back());
    std::string key = std::move(keys_.back());
    stack_.pop_back();
    keys_.pop_back();
    if (scope_boundary(top.name)) {
      dangling_.resize(std::min(dangling_.size(), top.dangling_at_push));
      dangling_names_.resize(dangling_.size());
    } else if (formatting(top.name) && std::count(dangling_.begin(), dangling_.end(), key) < 3) {
      // Re-opened by the builder in every later paragraph ("Noah's Ark": 3 alike at most).
      dangling_.push_back(std::move(key));
      dangling_names_.push_back(std::move(top.name));
    }
  }

  // Pops up to and including the nearest open element named one of `names`, when one is open
  // below no scope boundary (table scope: html, table, template) nor one of `stops`.
  void pop_through(std::initializer_list<std::string_view> names,
                   std::initializer_list<std::string_view> stops, bool table_scope = false) {
    for (std::size_t k = stack_.size(); k-- > 0;) {
      const std::string& n = stack_[k].name;
      if (one_of(n, names)) {
        while (stack_.size() > k) pop();
        return;
      }
      if (one_of(n, stops)) return;
      if (table_scope ? one_of(n, {"html", "table", "template"}) : scope_boundary(n)) return;
    }
  }

  std::vector<Open> stack_;
  std::vector<std::string> keys_;            // parallel to stack_: name and attributes
  std::vector<std::string> dangling_;        // keys of formatting elements closed implicitly
  std::vector<std::string> dangling_names_;  // parallel to dangling_
};

}  // namespace

std::string limit_html_nesting(std::string_view html, std::size_t max_depth) {
  std::string lower(html);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::pair<std::size_t, std::size_t>> removed;  // [begin, end) of start tags
  DepthEstimate estimate;
  const std::size_t size = lower.size();
  std::size_t i = 0;
  while ((i = lower.find('<', i)) != std::string::npos) {
    if (lower.compare(i, 4, "<!--") == 0) {
      const std::size_t e = lower.find("-->", i + 4);
      if (e == std::string::npos) break;
      i = e + 3;
      continue;
    }
    const bool end_tag = i + 1 < size && lower[i + 1] == '/';
    std::size_t n = i + 1 + (end_tag ? 1 : 0);
    if (n >= size || std::isalpha(static_cast<unsigned char>(lower[n])) == 0) {
      if (i + 1 < size && (lower[i + 1] == '!' || lower[i + 1] == '?')) {
        i = lower.find('>', i);  // doctype, bogus comment
        if (i == std::string::npos) break;
      }
      ++i;
      continue;
    }
    const std::size_t name_begin = n;
    while (n < size && std::isspace(static_cast<unsigned char>(lower[n])) == 0 && lower[n] != '/' &&
           lower[n] != '>') {
      ++n;
    }
    std::string name = lower.substr(name_begin, n - name_begin);
    char quote = 0;
    char previous = 0;  // the last character outside a quoted value
    for (; n < size; ++n) {
      const char c = lower[n];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if ((c == '"' || c == '\'') && previous == '=') {
        quote = c;
      } else if (c == '>') {
        break;
      } else if (std::isspace(static_cast<unsigned char>(c)) == 0) {
        previous = c;
      }
    }
    if (n >= size) break;  // a tag cut by the end of the input: dropped by the builder
    const std::size_t tag_end = n + 1;
    if (end_tag) {
      estimate.end(name);
    } else if (!void_element(name) && !(previous == '/' && estimate.in_foreign())) {
      // Raw text elements hold no elements (one level more at most) and stay elements: their
      // content (scripts, styles) must not turn into text.
      if (!raw_text(name) && name != "plaintext" &&
          (estimate.depth() >= max_depth ||
           (formatting(name) && estimate.dangling() >= kMaxDangling))) {
        removed.emplace_back(i, tag_end);
      } else {
        estimate.start(name, std::string_view(html).substr(i, tag_end - i));
        if (name == "plaintext") break;  // the rest is text
        if (raw_text(name)) {
          const std::size_t close = lower.find("</" + name, tag_end);
          if (close == std::string::npos) break;
          i = close;
          continue;
        }
      }
    }
    i = tag_end;
  }
  if (removed.empty()) return std::string(html);
  std::string out;
  out.reserve(html.size());
  std::size_t from = 0;
  for (const auto& [begin, end] : removed) {
    out.append(html.substr(from, begin - from));
    out += ' ';  // keeps the words around the removed tag apart
    from = end;
  }
  out.append(html.substr(from));
  return out;
}

}  // namespace enkisys::rag::parsers
