"""Attack recipes: one module per recipe, found by attacks.registry (see docs/adding-a-recipe.md)."""
