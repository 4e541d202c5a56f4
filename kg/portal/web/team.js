// The sections a team's (or a person's) asset page adds (being written).

/** Sections for the page of `asset` (the asset API's JSON) when it is a team or a person. */
export async function teamSections(_asset) {
  return [];
}
