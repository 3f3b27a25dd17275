-- Pandoc filter for the note's generated markdown (analysis.report.pdf.markdown_to_typst):
-- markdown that may carry data text reaches Typst as text and structure only.
-- An image, or a link to anything outside the note, becomes its literal markdown; raw
-- Typst/HTML/TeX (none can be written with the reader's extensions, this is a second guard)
-- becomes literal text. Links within the note (#anchor) stay.

local function literal(s)
  return pandoc.Str(s)
end

function Image(el)
  local out = { literal("![") }
  for _, x in ipairs(el.caption) do table.insert(out, x) end
  table.insert(out, literal("](" .. el.src .. ")"))
  return out
end

function Link(el)
  if el.target:sub(1, 1) == "#" then
    return el
  end
  local text = pandoc.utils.stringify(el.content)
  if text == el.target or "mailto:" .. text == el.target then
    return el.content
  end
  local out = { literal("[") }
  for _, x in ipairs(el.content) do table.insert(out, x) end
  table.insert(out, literal("](" .. el.target .. ")"))
  return out
end

function RawInline(el)
  return literal(el.text)
end

function RawBlock(el)
  return pandoc.Para({ literal(el.text) })
end
