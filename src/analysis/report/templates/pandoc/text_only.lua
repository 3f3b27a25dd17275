-- Pandoc filter for the note's generated markdown (analysis.report.pdf.markdown_to_typst):
-- markdown that may carry data text reaches Typst as text and structure only.
-- An image, or a link to anything outside the note, becomes its literal markdown; raw
-- Typst/HTML/TeX (none can be written with the reader's extensions, this is a second guard)
-- becomes literal text. Links within the note (#anchor) stay.

-- `open` .. content .. "](target)" as text, the content's own inlines kept
local function as_markdown(open, content, target)
  local out = { pandoc.Str(open) }
  for _, x in ipairs(content) do table.insert(out, x) end
  table.insert(out, pandoc.Str("](" .. target .. ")"))
  return out
end

function Image(el)
  return as_markdown("![", el.caption, el.src)
end

function Link(el)
  if el.target:sub(1, 1) == "#" then
    return el
  end
  local text = pandoc.utils.stringify(el.content)
  if text == el.target or "mailto:" .. text == el.target then
    return el.content
  end
  return as_markdown("[", el.content, el.target)
end

function RawInline(el)
  return pandoc.Str(el.text)
end

function RawBlock(el)
  return pandoc.Para({ pandoc.Str(el.text) })
end
