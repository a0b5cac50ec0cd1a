// The Report target of isoflop; see DESIGN.md for its place in the layout.
